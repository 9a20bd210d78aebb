"""The Explore page in a real browser: click a point on the map, then box-select it, see its
actions, and search with it (the Search page opens with it as the query)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.e2e

POINT = """() => {
  // a point alone in its 24-pixel box, inside the window (the map may be taller than it):
  // the highest such point, so the box selects exactly one item wherever the layout put it
  const gd = document.querySelector('.js-plotly-plot');
  const fl = gd._fullLayout, box = gd.getBoundingClientRect();
  const pts = [];
  gd._fullData.forEach((t, ti) => (t.x || []).forEach((x, i) => pts.push(
    [ti, box.left + fl._size.l + fl.xaxis.l2p(x), box.top + fl._size.t + fl.yaxis.l2p(t.y[i])])));
  const alone = pts.filter(([, x, y]) => y > 20 && y < window.innerHeight - 20 &&
    pts.filter(([, u, v]) => Math.abs(u - x) <= 12 && Math.abs(v - y) <= 12).length === 1);
  alone.sort((a, b) => a[2] - b[2]);
  return alone.length ? [alone[0][1], alone[0][2]] : null;
}"""


def test_select_on_the_map_and_search_with_it(app_url, demo_catalog, page):
    page.goto(f"{app_url}/explore")
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    wait_for_app(page)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    spot = page.evaluate(POINT)
    assert spot, "no point of the map stands alone inside the window"
    x, y = spot
    # a click selects the point (the map's drag tool is zoom)
    page.mouse.click(x, y)
    page.get_by_role("button", name="🔎 Search with this").wait_for()
    wait_for_app(page)
    page.locator('[data-title="Box Select"]').first.click()
    page.mouse.move(x - 10, y - 10)
    page.mouse.down()
    page.mouse.move(x + 10, y + 10, steps=8)
    page.mouse.up()
    search = page.get_by_role("button", name="🔎 Search with this")
    search.wait_for()
    assert page.get_by_role("button", name="👗 Complete the look").count() == 1
    assert page.get_by_role("button", name="✏️ Refine with text").count() == 1
    wait_for_app(page)
    search.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explore_point_selected.png"), full_page=False)
    search.click()
    page.wait_for_url("**/search", timeout=60_000)
    page.get_by_text("Query", exact=True).first.wait_for()
    page.get_by_text("% match").first.wait_for()
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
