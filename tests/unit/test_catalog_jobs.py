"""Catalog jobs a page starts: the embed advice names the masked variant; the ingest summary
says what was embedded and where the items now appear."""

from core.catalog_jobs import IngestOutcome
from core.index import embed_command
from core.ingest.report import IngestReport


def test_embed_advice_names_the_mask_flag():
    assert embed_command("studio_encoder+mask") == \
        "python -m core embed --backbone studio_encoder --mask"
    assert embed_command("resnet50") == "python -m core embed --backbone resnet50"


def test_ingest_summary_says_what_was_embedded():
    done = IngestOutcome(IngestReport(added=12, duplicates=3), embedded=12)
    assert done.summary() == ("Added 12 items; embedded 12; they now appear in Search and "
                              "Explore. (skipped 3 duplicates.)")
    assert "not searchable" in IngestOutcome(IngestReport(added=2)).summary()
    assert IngestOutcome(IngestReport(duplicates=1)).summary() == \
        "Added 0 items. (skipped 1 duplicate.)"
