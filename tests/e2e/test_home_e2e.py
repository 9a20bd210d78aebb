"""The real app in a real browser: Home shows the catalog held in the database."""

import pytest

from tests.e2e.conftest import wait_for_app
from tests.helpers import make_small_catalog

pytestmark = pytest.mark.e2e


def test_home_shows_catalog_in_browser(app_url, e2e_repo, page):
    cfg, repo = e2e_repo
    if repo.count_items() == 0:
        make_small_catalog(repo, cfg.data_dir, 20)
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("Fashion Studio").first.wait_for()
    page.get_by_text("Connected to").first.wait_for()
    metric = page.locator('[data-testid="stMetricValue"]').first
    assert metric.inner_text().replace(",", "") == str(repo.count_items())
    page.get_by_text("A sample of the catalog").wait_for()
    images = page.locator('[data-testid="stImage"] img')
    images.nth(4).wait_for()
    assert images.count() >= 5
    assert page.locator('[data-testid="stImage"] img').first.evaluate("i => i.naturalWidth") > 0
    page.locator(".js-plotly-plot").first.wait_for()  # the category chart rendered


def test_ingest_a_folder_from_home_then_find_it_in_search(app_url, demo_catalog, page,
                                                          tmp_path):
    # demo_catalog: the app's database holds an embedded catalog and the shipped encoder
    from PIL import Image, ImageDraw

    folder = tmp_path / "new_arrivals"
    folder.mkdir()
    for i, rgb in enumerate([(220, 40, 160), (40, 200, 210), (250, 150, 20)]):
        img = Image.new("RGB", (160, 200), (245, 245, 245))
        ImageDraw.Draw(img).rectangle([30 + 5 * i, 30, 130, 170], fill=rgb)
        img.save(folder / f"arrival_{i}.jpg", quality=92)
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("Ingest your own images").click()
    page.get_by_label("Path on this machine").fill(str(folder))
    page.get_by_role("button", name="Ingest", exact=True).click()
    page.get_by_text("they now appear in Search and Explore").wait_for(timeout=120_000)
    page.get_by_text("Added 3 items; embedded 3").wait_for()
    page.goto(f"{app_url}/search")
    page.locator('input[type="file"]').first.wait_for(state="attached")
    page.locator('input[type="file"]').first.set_input_files(str(folder / "arrival_1.jpg"))
    page.get_by_text("Similar items").wait_for()
    page.get_by_role("button", name="🔍 Similar").first.wait_for()
    top = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    assert any("100\u00a0% match" in c for c in top), top  # the ingested item itself is found
    assert page.locator('[data-testid="stException"]').count() == 0
