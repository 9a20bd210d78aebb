"""The feedback parser and the request rules: negations, comparatives, several attributes in
one sentence, colour words the palette lacks, and the ranking that obeys them."""

from __future__ import annotations

import numpy as np
import pytest

from core.feedback.parse import ANY_PATTERN, parse_feedback
from core.feedback.rules import (
    Constraints,
    penalty,
    penalty_matrix,
    rank,
    resolve,
    shades,
    unmet,
)
from core.taxonomy import COLORS

BLUE_SHORT = {"color": "blue", "pattern": "solid", "sleeve": "short"}


def rules(text: str, ref: dict | None = None) -> Constraints:
    return resolve(parse_feedback(text), BLUE_SHORT if ref is None else ref)


@pytest.mark.parametrize("text, attr, avoided", [
    ("no stripes please", "pattern", {"striped"}),
    ("it should not be red", "color", {"red"}),
    ("lose the polka dots", "pattern", {"dotted"}),
    ("anything but green or pink", "color", {"green", "pink"}),
    ("does not have any florals", "pattern", {"floral"}),
])
def test_negations_are_avoided_not_requested(text, attr, avoided):
    c = rules(text)
    assert c.avoid[attr] == frozenset(avoided)
    assert attr not in c.want


@pytest.mark.parametrize("text", ["less busy", "without a print", "no pattern at all",
                                  "simpler, one colour"])
def test_asking_for_less_pattern_means_plain(text):
    assert rules(text).want["pattern"] == frozenset({"solid"})


def test_a_negator_does_not_reach_over_other_words():
    c = rules("not fitted, in orange")
    assert c.want["color"] == frozenset({"orange"}) and not c.avoid


@pytest.mark.parametrize("text, ref, want", [
    ("make it darker", "blue", {"navy"}),
    ("much lighter in colour", "black", {"grey", "white"}),
    ("not so dark", "burgundy", {"red", "pink"}),
    ("a brighter shade", "green", {"mint"}),
    ("a darker shade of pink", "pink", {"red", "burgundy"}),
    ("a deeper purple", "orange", {"purple"}),
])
def test_colour_comparatives_follow_the_palette_links(text, ref, want):
    assert rules(text, {"color": ref}).want["color"] == frozenset(want)


def test_comparatives_without_a_shade_say_so():
    c = rules("darker please", {"color": "black"})
    assert "color" not in c.want and "no darker shade than black" in c.reading()
    c = rules("lighter", {})
    assert "color" not in c.want and "unknown" in c.reading()


@pytest.mark.parametrize("text, ref, want", [
    ("give it longer sleeves", "short", {"three-quarter", "long"}),
    ("the sleeves are shorter", "long", {"sleeveless", "short", "three-quarter"}),
    ("with sleeves", "sleeveless", {"short", "three-quarter", "long"}),
    ("get rid of the sleeves, go without sleeves", "long", {"sleeveless"}),
])
def test_sleeve_requests(text, ref, want):
    assert rules(text, {"sleeve": ref}).want["sleeve"] == frozenset(want)


def test_several_requests_in_one_sentence():
    c = rules("should be red with short sleeves and no pattern")
    assert c.want == {"color": frozenset({"red"}), "sleeve": frozenset({"short"}),
                      "pattern": frozenset({"solid"})}
    assert c.reading() == "colour → red; pattern → solid; sleeves → short"
    c = rules("a navy one, long sleeved, and not checked or striped")
    assert c.want == {"color": frozenset({"navy"}), "sleeve": frozenset({"long"})}
    assert c.avoid == {"pattern": frozenset({"checked", "striped"})}
    assert c.reading() == "colour → navy; sleeves → long; not: striped/checked"


@pytest.mark.parametrize("word, palette", [
    ("maroon", {"burgundy"}), ("olive", {"olive"}), ("cream", {"white", "beige"}),
    ("tan", {"beige", "brown"}), ("khaki", {"beige", "olive"}), ("navy blue", {"navy"}),
    ("teal", {"blue", "dark green"}), ("turquoise", {"light blue", "mint"}),
    ("coral", {"orange", "pink"}), ("gold", {"yellow"}), ("silver", {"grey"}),
    ("charcoal", {"grey", "black"}), ("ivory", {"white"}), ("nude", {"beige"}),
    ("wine", {"burgundy"}), ("mustard", {"yellow", "olive"}),
])
def test_off_palette_colour_words_map_onto_the_palette(word, palette):
    assert parse_feedback(f"I'd like it in {word}").requested("color") == frozenset(palette)
    assert frozenset(palette) <= set(COLORS)


def test_detail_colours_are_not_the_garment_colour():
    p = parse_feedback("a grey tee with pink writing")
    assert p.requested("color") == frozenset({"grey"})
    assert p.requested("pattern") == frozenset({"graphic"})
    assert parse_feedback("has yellow stripes").requested("color") is None
    assert parse_feedback("green and blue").requested("color") == frozenset({"green", "blue"})


def test_patterns_in_general():
    assert parse_feedback("something patterned").requested("pattern") == ANY_PATTERN
    assert rules("more plain, no florals").want["pattern"] == frozenset({"solid"})
    assert rules("printed, with a logo").want["pattern"] == frozenset({"graphic"})  # specific


def test_shade_chains():
    assert shades("white", "darker") == ["grey", "black"]
    assert shades("orange", "lighter") == []


def test_penalty_and_rank_on_a_tiny_candidate_set():
    c = rules("red, not striped")
    items = [{"color": "red", "pattern": "striped"}, {"color": "blue", "pattern": "solid"},
             {"color": "red", "pattern": "solid"}, {"color": "red", "pattern": "dotted"},
             {"color": "green", "pattern": "striped"}]
    assert [penalty(a, c) for a in items] == [1, 1, 0, 0, 2]
    pens = penalty_matrix([c], items)[0]
    assert pens.tolist() == [1, 1, 0, 0, 2]
    scores = np.array([0.9, 0.95, 0.2, 0.5, 0.99])
    assert rank(scores, pens).tolist() == [3, 2, 1, 0, 4]  # groups first, then score
    assert rank(scores, pens, weight=0.0).tolist() == [4, 1, 0, 3, 2]  # the combiner alone
    assert unmet(items[:2], rules("make it pink")) == [("color", "pink")]
    assert not rules("asdf") and rank(scores, penalty_matrix([Constraints()], items)[0]
                                      ).tolist() == [4, 1, 0, 3, 2]


def test_punctuation_ends_a_negation_and_slashes_join_colours():
    c = rules("has long sleeves instead; a floral print")
    assert c.want["pattern"] == frozenset({"floral"}) and not c.avoid
    assert rules("I prefer olive over black").avoid == {"color": frozenset({"black"})}
    assert rules("beige/brown tones").want["color"] == frozenset({"beige", "brown"})
    assert rules("has 3/4 sleeves").want["sleeve"] == frozenset({"three-quarter"})
    assert rules("a greenish one").want["color"] == frozenset({"green"})
