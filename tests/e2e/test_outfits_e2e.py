"""The Outfits page in a real browser, on the demo catalog embedded with the shipped encoder:
build a look from the catalog, see its score, the verdict's reason and the pair heatmap,
complete it, add photos (a bad one gets a clear message; a good one's category guess can be
corrected and its season stated) and load a held-out outfit of the data set (the page asks
before replacing a look)."""

from __future__ import annotations

import re

import pytest

from core.storage.embedded import _terminate
from tests.e2e.conftest import ENCODER, query_photo, start_app, wait_for_app

pytestmark = pytest.mark.e2e

SHIPPED_COMPAT = ENCODER.parent / "compat.pt"


@pytest.fixture(scope="module")
def outfits_url(e2e_env, demo_catalog, tmp_path_factory):
    """The app on a weights dir with the shipped encoder and an outfit model: the shipped
    weights/compat.pt when there is one, else an untrained one (the page, not the model, is
    under test; the demo catalog has too few outfits to train on)."""
    weights = tmp_path_factory.mktemp("e2e-weights")
    for p in ENCODER.parent.glob("*"):
        if p.is_file() and p.suffix in (".pt", ".json"):
            (weights / p.name).symlink_to(p)
    if not SHIPPED_COMPAT.exists():
        import torch

        from core.outfits.model import CompatConfig, CompatNet, save_compat

        cfg, repo, _ = demo_catalog
        dim = repo.vectors(cfg.backbone)[1].shape[1]
        torch.manual_seed(0)
        save_compat(weights / "compat.pt", CompatNet(CompatConfig(img_dim=dim)).eval())
    proc, url = start_app({**e2e_env, "WEIGHTS_DIR": str(weights)},
                          tmp_path_factory.mktemp("e2e-outfits-log") / "streamlit.log")
    yield url
    _terminate(proc.pid)


def _look_size(page, n: int) -> None:
    page.get_by_text(f"Your look · {n} of 6 pieces").wait_for()
    wait_for_app(page)


VERDICT = re.compile(r"^(These go together|These don't go together|Not quite together)")
REASONS = ("women's and men's pieces", "summer with winter", "two ", "clashing colours",
           "a one-piece with separates", "casual with formal", "judged from the pictures")


def _verdict(page) -> str:
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    (text,) = [a.strip() for a in alerts if VERDICT.match(a.strip())]
    return text


def _reads_as_its_score(text: str, score: str) -> None:
    """The verdict quotes the score and either says every pair goes together (naming the
    weakest) or names each clashing pair with a reason."""
    assert f"({score})" in text, (text, score)
    if text.startswith("These go together"):
        assert "every pair scores 50% or more; the weakest is" in text
    else:
        assert "clash" in text and " with " in text and any(r in text for r in REASONS), text


def _score(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Outfit score")
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_build_a_look_read_the_reason_and_complete_it(outfits_url, page):
    page.goto(f"{outfits_url}/outfits")
    page.get_by_text("Your look is empty").wait_for()
    adds = page.get_by_role("button", name="Add to look")
    adds.nth(9).wait_for()
    adds.nth(0).click()
    _look_size(page, 1)
    assert _score(page) == "—"
    adds.nth(1).click()
    _look_size(page, 2)
    assert re.fullmatch(r"\d{1,3}%", _score(page)), _score(page)
    _reads_as_its_score(_verdict(page), _score(page))
    heatmap = page.locator(".js-plotly-plot")
    heatmap.first.locator(".hm, .heatmaplayer, image").first.wait_for()  # the pair cells,
    # drawn by plotly after the plot's frame
    assert page.get_by_text("How each pair goes together").count() == 1

    page.get_by_role("tab", name="Complete the look").click()
    fill = page.get_by_role("button", name="Add", exact=True)
    fill.first.wait_for()
    looks = [c for c in page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
             if " · look " in c]
    assert looks and all(re.search(r" · look \d{1,3}%$", c.strip()) for c in looks), looks
    fill.first.click()
    _look_size(page, 3)
    assert re.fullmatch(r"\d{1,3}%", _score(page))
    _reads_as_its_score(_verdict(page), _score(page))
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text("Your look · 3 of 6").scroll_into_view_if_needed()  # for the screenshot


def test_photos_and_examples(outfits_url, demo_catalog, page, tmp_path):
    _, photo = query_photo(demo_catalog, tmp_path)
    bad = tmp_path / "not_a_photo.jpg"
    bad.write_text("this is text, not an image")
    page.goto(f"{outfits_url}/outfits")
    page.get_by_text("Your look is empty").wait_for()
    page.get_by_role("tab", name="Your photos").click()
    page.locator('input[type="file"]').first.set_input_files([str(photo), str(bad)])
    page.get_by_role("button", name="Add 2 photos to the look").click()
    _look_size(page, 1)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="Could not use")
    assert "not_a_photo.jpg" in alert.first.inner_text()
    assert page.get_by_text(photo.name).count() >= 1  # the photo's piece is labelled
    # what the photo shows: the model's guesses first, then every category; a pick sticks
    what = page.get_by_role("combobox", name="What is it?")
    what.click()
    page.keyboard.type("coat")  # the list is long: filter it
    page.get_by_role("option", name="coat", exact=True).click()
    wait_for_app(page)
    assert page.get_by_role("combobox", name="What is it?").input_value() == "coat"
    page.get_by_text(f"{photo.name} (coat)").first.wait_for()  # the piece's new label
    # the shipped model reads the catalog's season and gender; a photo's can be stated
    season = page.get_by_role("combobox", name="Season")
    assert page.get_by_role("combobox", name="For whom").count() == 1
    season.click()
    page.get_by_role("option", name="Winter").click()
    wait_for_app(page)
    assert page.get_by_role("combobox", name="Season").input_value() == "Winter"

    page.get_by_role("tab", name="Examples").click()
    load = page.get_by_role("button", name="Load into my look")
    load.first.wait_for()
    assert page.get_by_text("The data set says:").count() >= 1
    load.first.click()  # the look has the photo: the page asks before replacing it
    page.get_by_text("is ready, and your look already has 1 piece.").wait_for()
    _look_size(page, 1)
    page.get_by_role("button", name="Start a new look with it").click()
    page.get_by_text(re.compile(r"Your look · [2-6] of 6 pieces")).wait_for()
    wait_for_app(page)
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_search_hands_an_item_to_outfits(outfits_url, page):
    """Search → pick a catalog item → *Complete the look* lands on Outfits with it in the look."""
    page.goto(f"{outfits_url}/search")
    page.get_by_role("tab", name="From the catalog").click()
    page.get_by_role("button", name="Search with this").first.click()
    go = page.get_by_role("button", name=re.compile(r"Complete the look with"))
    go.wait_for()
    go.click()
    _look_size(page, 1)
    assert page.url.rstrip("/").endswith("/outfits")
    page.get_by_role("tab", name="Complete the look").click()
    page.get_by_role("button", name="Add", exact=True).first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
