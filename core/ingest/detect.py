"""Recognise what a path holds and read it with the matching reader."""

from __future__ import annotations

from pathlib import Path

from core.ingest.demo import is_demo_catalog, read_demo
from core.ingest.folders import (
    find_sidecar,
    has_top_images,
    looks_like_class_folders,
    read_class_folders,
    read_plain_folder,
)
from core.ingest.report import IngestError
from core.ingest.sources import Candidate, Source, list_files, not_an_image
from core.ingest.tables import analysis_files, is_analysis_json, read_analysis, read_label_csv

SUPPORTED = ("the demo catalog (manifest.json), a folder of images (optional metadata.csv/json), "
             "class folders (train/dress/*.jpg or dress/*.jpg), an image_name,category_label "
             "CSV, a fashion-analysis JSON, or a single image")


def detect_source(path: str | Path) -> Source:
    """Read ``path`` with the reader its layout calls for; IngestError if none fits."""
    path = Path(path).expanduser()
    if not path.exists():
        raise IngestError(f"{path}: no such file or directory")
    path = path.resolve()
    if path.is_file():
        return _read_file(path)
    if not path.is_dir():
        raise IngestError(f"{path}: not a file or directory")
    if is_demo_catalog(path):
        return read_demo(path)
    if analysis_files(path):
        return read_analysis(analysis_files(path), path)
    if find_sidecar(path) is not None or has_top_images(path):
        return read_plain_folder(path)
    if looks_like_class_folders(path):
        return read_class_folders(path)
    if list_files(path):  # no image among them: each is rejected with its reason
        return read_plain_folder(path)
    raise IngestError(f"{path}: no images found (expected {SUPPORTED})")


def _read_file(path: Path) -> Source:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_label_csv(path)
    if is_analysis_json(path):
        return read_analysis([path], path.parent)
    if not_an_image(path) is None:
        return Source(format="image", root=path.parent,
                      candidates=[Candidate(file=path, label=path.name)])
    raise IngestError(f"{path.name}: {not_an_image(path)}; not a recognised source (expected "
                      f"{SUPPORTED})")
