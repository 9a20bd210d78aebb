"""What a photo reads as, for Refine: each value only when read surely enough."""

from __future__ import annotations

from core.tagging.colour import ColourReading
from core.tagging.photo import PhotoReading, family_of_guess, read_photo


def _colour(name: str, confidence: float) -> ColourReading:
    return ColourReading(name, None, confidence, 0.8, "encoder+pixels", {name: confidence})


def test_a_sure_category_sets_category_and_family():
    r = read_photo([("dress", 0.7), ("romper", 0.2)], {}, _colour("navy", 0.9))
    assert (r.category, r.family, r.attrs) == ("dress", "full", {"color": "navy"})
    assert r.caption() == "dress · navy"


def test_an_unsure_category_still_gives_its_family():
    guess = [("sweater", 0.4), ("hoodie", 0.3), ("coat", 0.2)]
    r = read_photo(guess, {"sleeve": ("long", 0.95)}, None)
    assert r.category is None and r.family == "top"
    assert r.caption() == "top · long sleeves"
    assert family_of_guess([("sweater", 0.3), ("coat", 0.25), ("bag", 0.2)]) is None
    assert family_of_guess([("not-a-category", 0.9)]) is None and family_of_guess(None) is None


def test_unsure_values_are_left_out():
    heads = {"pattern": ("striped", 0.69), "sleeve": ("short", 0.5)}
    r = read_photo([("tee", 0.9)], heads, _colour("red", 0.49))
    assert r.attrs == {} and r.caption() == "tee"
    assert read_photo(None, {}, None) == PhotoReading() and PhotoReading().caption() == ""


def test_sleeves_are_not_read_for_garments_without_them():
    heads = {"sleeve": ("long", 0.99), "pattern": ("solid", 0.9)}
    assert read_photo([("sneakers", 0.9)], heads, None).attrs == {"pattern": "solid"}
    assert read_photo([("tee", 0.9)], {"sleeve": ("n/a", 0.99)}, None).attrs == {}


def test_an_unsure_photo_names_its_likely_categories_of_its_family():
    guess = [("sweater", 0.4), ("hoodie", 0.3), ("coat", 0.2)]
    assert read_photo(guess, {}, None).likely == frozenset({"sweater", "hoodie"})
    assert read_photo([("sweater", 0.4), ("hoodie", 0.3), ("top", 0.05)], {}, None).likely \
        == frozenset({"sweater", "hoodie"})  # below MIN_LIKELY: left out
    assert read_photo([("dress", 0.9), ("romper", 0.1)], {}, None).likely == frozenset()


def test_likely_categories_come_first_as_a_sure_category_would():
    from core.feedback.parse import parse_feedback
    from core.feedback.rules import resolve

    rules = resolve(parse_feedback("in red"), {}, family="top",
                    likely=frozenset({"sweater", "hoodie"}))
    assert rules.prefer == {"category": frozenset({"sweater", "hoodie"})}
    sure = resolve(parse_feedback("in red"), {}, category="tee", likely=frozenset({"hoodie"}))
    assert sure.prefer == {"category": frozenset({"tee"})}
    named = resolve(parse_feedback("make it a dress"), {}, likely=frozenset({"hoodie"}))
    assert "category" not in named.prefer


def test_a_sleeveless_photo_reads_sleeveless():
    r = read_photo([("dress", 0.9)], {"sleeve": ("sleeveless", 0.9)}, _colour("black", 0.9))
    assert r.caption() == "dress · black · sleeveless"


def test_an_outfit_piece_counts_as_its_top_guess_when_its_family_is_clear():
    from core.tagging.photo import piece_category

    assert piece_category([("jeans", 0.48), ("trousers", 0.3), ("shorts", 0.1)]) == "jeans"
    assert piece_category([("tee", 0.55), ("sneakers", 0.3)]) == "tee"  # sure on its own
    assert piece_category([("jeans", 0.45), ("tee", 0.3), ("trousers", 0.2)]) is None
    assert piece_category([("unknown-thing", 0.9)]) is None and piece_category([]) is None
