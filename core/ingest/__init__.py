"""Ingest: bring images and their metadata from any supported layout into the catalog.

Supported sources: the demo catalog, a folder of images (optional metadata.csv/json sidecar),
class folders (`train/dress/*.jpg`, `dress/*.jpg`), the category-label `image_name,category_label`
CSV and the "fashion analysis" JSON. See :func:`ingest_path`.
"""

from core.ingest.detect import SUPPORTED, detect_source
from core.ingest.pipeline import ingest_path
from core.ingest.report import IngestError, IngestReport, Rejection
from core.ingest.tables import LABEL_CSV_CATEGORIES

__all__ = ["LABEL_CSV_CATEGORIES", "SUPPORTED", "IngestError", "IngestReport", "Rejection",
           "detect_source", "ingest_path"]
