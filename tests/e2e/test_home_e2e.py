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
