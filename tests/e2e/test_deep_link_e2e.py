"""A bookmark to a page, opened as the very first request after the server starts, gets the
app's own menu and layout (not Streamlit's folder-based navigation of pages/)."""

from __future__ import annotations

import pytest

from core.storage.embedded import _terminate
from tests.e2e.conftest import start_app

pytestmark = pytest.mark.e2e


@pytest.fixture
def fresh_app_url(e2e_env, tmp_path):
    proc, url = start_app(e2e_env, tmp_path / "streamlit.log")
    yield url
    _terminate(proc.pid)


def test_first_request_to_a_deep_link_uses_the_app_menu(fresh_app_url, page):
    page.goto(f"{fresh_app_url}/explore")
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Home", exact=True).wait_for()  # the page re-runs through app.py at once
    page.get_by_text("Explore the catalog").first.wait_for()
    labels = nav.inner_text()
    assert "Home" in labels and "Refine" in labels
    assert "common" not in labels and "app" not in labels.split()
    assert page.url.endswith("/explore")
