"""The Models page in a real browser on the demo catalog with the shipped default encoder:
start a 1-epoch fine-tune, watch its curve appear, see the new model offered without reloading,
then embed the catalog and activate it (re-tagging with it)."""

from __future__ import annotations

import pytest

from core.config import read_active_pointer
from core.modelhub.activate import write_pointer
from tests.e2e.conftest import wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_fine_tune_watch_the_curve_and_activate(app_url, demo_catalog, page):
    cfg, repo, _ = demo_catalog
    page.goto(f"{app_url}/models")
    page.get_by_role("heading", name=f"Fine-tune {cfg.backbone} on your catalog").wait_for()
    wait_for_app(page)
    page.get_by_label("Epochs").fill("1")
    page.get_by_label("Batch size").fill("16")
    page.get_by_label("Image size (px, 0 = the encoder's own)").fill("128")
    page.get_by_role("button", name="Start fine-tuning").click()
    page.get_by_text("Run ").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)  # the epoch's curve
    new = f"{cfg.backbone}-ft1"
    button = page.get_by_role("button", name=f"Embed the catalog and activate {new}")
    try:
        button.wait_for(timeout=120_000)  # the page refreshes itself when the run ends
        page.reload()  # reopening the page shows the finished run and its model
        page.get_by_text(f"Finished. model {new} written").wait_for()
        button.wait_for()
        wait_for_app(page)
        button.click()
        page.get_by_text(f"{new} is active (was {cfg.backbone})").wait_for(timeout=300_000)
        wait_for_app(page)
        assert read_active_pointer(cfg.data_dir) == new
        assert repo.vector_count(new) == repo.count_items() >= 120  # other tests add items
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:  # the other browser tests run the shipped encoder
        write_pointer(cfg.data_dir, cfg.backbone)
