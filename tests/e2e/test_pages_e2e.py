"""The feature pages in a real browser, on a small demo catalog embedded with the shipped
encoder: upload a photo and see matches, refine with text, explore the map."""

from __future__ import annotations

import re

import pytest

from core.taxonomy import COLORS
from tests.e2e.conftest import ENCODER, query_photo

pytestmark = pytest.mark.e2e
MATCH = re.compile(r" · (\d+)\s% match$")  # "jacket · green · solid · 87 % match"

# [width of the input's placeholder text, room for it inside the box], in CSS pixels
PLACEHOLDER_WIDTH = """el => {
    const cs = getComputedStyle(el), ctx = document.createElement("canvas").getContext("2d");
    ctx.font = cs.font;
    return [ctx.measureText(el.placeholder).width,
            el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)];
}"""


def _caption_texts(page) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()]


def test_upload_photo_shows_matches(app_url, demo_catalog, page, tmp_path):
    spec, photo = query_photo(demo_catalog, tmp_path)
    page.goto(f"{app_url}/search")
    page.locator('input[type="file"]').first.wait_for(state="attached")
    page.locator('input[type="file"]').first.set_input_files(str(photo))
    page.get_by_text("Similar items").wait_for()
    page.get_by_role("button", name="🔍 Similar").nth(4).wait_for()
    scored = [c for c in _caption_texts(page) if MATCH.search(c)]
    assert len(scored) >= 5, scored
    assert all(0 <= int(MATCH.search(c).group(1)) <= 100 for c in scored)
    # the best match is a garment of the photo's category and colour
    assert scored[0].split(" · ")[:2] == [spec["category"], spec["attrs"]["color"]], scored
    # each card names its product and price
    cards = page.locator('[data-testid="stMarkdownContainer"]').all_inner_texts()
    assert sum("€" in c for c in cards) >= 5, cards
    assert page.locator('[data-testid="stImage"] img').count() >= 6


def test_exact_item_mode_in_browser(app_url, demo_catalog, page, tmp_path):
    from core.models.studio import load_checkpoint

    assert load_checkpoint(ENCODER)[0].item_weights, "the shipped encoder is tuned for it"
    spec, photo = query_photo(demo_catalog, tmp_path)
    page.goto(f"{app_url}/search")
    page.get_by_text("This exact item").click()
    page.locator('input[type="file"]').first.wait_for(state="attached")
    page.locator('input[type="file"]').first.set_input_files(str(photo))
    page.get_by_text("Is it one of these?").wait_for()
    page.get_by_role("button", name="🔍 Similar").nth(4).wait_for()
    captions = _caption_texts(page)
    assert any("exact-item match" in c for c in captions), captions
    scored = [c for c in captions if MATCH.search(c)]
    assert scored[0].split(" · ")[:2] == [spec["category"], spec["attrs"]["color"]], scored
    assert page.locator('[data-testid="stException"]').count() == 0


def test_bad_upload_gets_a_clear_message(app_url, demo_catalog, page, tmp_path):
    bad = tmp_path / "not_a_photo.jpg"
    bad.write_text("this is text, not an image")
    page.goto(f"{app_url}/search")
    page.locator('input[type="file"]').first.wait_for(state="attached")
    page.locator('input[type="file"]').first.set_input_files(str(bad))
    page.get_by_text("Could not use").first.wait_for()
    assert "not_a_photo.jpg" in page.locator('[data-testid="stAlert"]').first.inner_text()


def test_refine_two_turns_in_browser(app_url, demo_catalog, page):
    cfg, _, _ = demo_catalog
    if not (cfg.weights_dir / "feedback_combiner.pt").exists():
        pytest.skip("shipped feedback weights missing")
    page.goto(f"{app_url}/refine")
    page.get_by_role("button", name="Start from this").first.click()
    box = page.get_by_role("textbox", name="What should change?")
    page.set_viewport_size({"width": 1024, "height": 800})  # a small laptop window
    text_width, room = box.evaluate(PLACEHOLDER_WIDTH)
    assert text_width <= room, (text_width, room)  # the hint is shown whole, not cut off
    page.set_viewport_size({"width": 1400, "height": 1000})
    for turn, text in enumerate(["in red", "with long sleeves"], 1):
        box.fill(text)
        page.get_by_role("button", name="Refine").click()
        page.get_by_role("button", name="↪ Use this").first.wait_for()
        if turn == 2:
            page.get_by_text("Turn 1:").first.wait_for()  # the history keeps the first turn
    # the starting item stays visible, then each turn's choice, the last one marked
    page.get_by_text("Start", exact=True).wait_for()
    page.get_by_text("After turn 1", exact=True).wait_for()
    page.get_by_text("After turn 2 · next turn starts here").wait_for()
    starts_from = page.get_by_text("The next turn starts from").inner_text()
    assert not re.search(r"\bD\d{6}\b", starts_from), starts_from  # a name, not a sku
    assert page.locator('[data-testid="stException"]').count() == 0


def test_refine_from_an_uploaded_photo_says_what_it_read(app_url, demo_catalog, page,
                                                         tmp_path):
    cfg, _, _ = demo_catalog
    if not (cfg.weights_dir / "feedback_combiner.pt").exists():
        pytest.skip("shipped feedback weights missing")
    _, photo = query_photo(demo_catalog, tmp_path)
    page.goto(f"{app_url}/refine")
    page.get_by_role("tab", name="📤 Upload a photo").click()
    page.locator('input[type="file"]').first.set_input_files(str(photo))
    page.get_by_role("button", name="Start from this photo").click()
    read_as = page.get_by_text("read as:").first
    read_as.wait_for()
    parts = read_as.inner_text().split("read as: ")[1].split(" · ")
    colour = next(p for p in parts if p in COLORS)  # the photo's colour, read surely
    page.get_by_role("textbox", name="What should change?").fill("darker")
    page.get_by_role("button", name="Refine").click()
    page.get_by_role("button", name="↪ Use this").first.wait_for()
    assert page.get_by_text(f"darker than {colour}").count() >= 1  # starts from the reading
    assert page.locator('[data-testid="stException"]').count() == 0


def test_explore_page_draws_the_map(app_url, demo_catalog, page):
    page.goto(f"{app_url}/explore")
    page.get_by_text("Explore the catalog").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0
