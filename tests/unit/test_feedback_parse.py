"""The feedback parser and the request rules: negations, comparatives, several attributes in
one sentence, colour words the palette lacks, requests the garment cannot meet, and the
ranking that obeys them."""

from __future__ import annotations

import numpy as np
import pytest

from core.feedback.parse import ANY_PATTERN, parse_feedback
from core.feedback.rules import (
    Constraints,
    model_text,
    named_shades,
    penalty,
    penalty_matrix,
    rank,
    resolve,
    shades,
    unmet,
)
from core.taxonomy import COLORS, applies

BLUE_SHORT = {"color": "blue", "pattern": "solid", "sleeve": "short"}


def rules(text: str, ref: dict | None = None, category: str | None = None) -> Constraints:
    return resolve(parse_feedback(text), BLUE_SHORT if ref is None else ref, category=category)


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
    assert c.want["color"] == frozenset({"orange"}) and "color" not in c.avoid
    assert c.avoid == {"fit": frozenset({"slim"})}  # "not fitted" is a fit of its own


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


# -- requests that don't apply to the garment --------------------------------------------------
BAG = {"color": "mint", "pattern": "striped", "sleeve": "n/a", "length": "n/a", "fit": "n/a"}


@pytest.mark.parametrize("text, category, attr, where", [
    ("longer sleeves", "bag", "sleeves", "bags"),
    ("with long sleeves", "trousers", "sleeves", "trousers"),
    ("no sleeves please", "sneakers", "sleeves", "sneakers"),
    ("make it longer", "bag", "length", "bags"),
    ("knee length", "sandals", "length", "sandals"),
    ("a tighter fit", "hat", "fit", "hats"),
])
def test_a_request_the_garment_cannot_meet_is_said_to_not_apply(text, category, attr, where):
    p = parse_feedback(text)
    c = resolve(p, BAG, category=category)
    assert c.reading() == f"{attr}: doesn't apply to {where}"
    assert not c and not c.notes[:-1]  # no rule: the ranking is not distorted
    assert model_text(p, c) is None  # nor the model's query: the reference itself


def test_applicability_comes_from_the_taxonomy():
    assert applies("sleeve", "dress") and applies("sleeve", "tank")
    assert not applies("sleeve", "bag") and not applies("sleeve", "jeans")
    assert applies("length", "boots") and not applies("length", "sneakers")
    assert not applies("fit", "heels") and applies("fit", "skirt")
    assert applies("sleeve", family="top") and not applies("sleeve", family="bottom")
    assert applies("length", family="shoes")  # boots have one
    assert applies("sleeve", "kaftan") is None  # outside the taxonomy: unknown


def test_applicability_for_photos_and_items_outside_the_taxonomy():
    c = resolve(parse_feedback("longer sleeves"), {"color": "blue"}, family="bottom")
    assert c.reading() == "sleeves: doesn't apply to bottoms"  # a photo: its family
    c = resolve(parse_feedback("longer sleeves"), {"sleeve": "n/a"}, category="kaftan")
    assert c.reading() == "sleeves: doesn't apply to kaftans"  # its own attributes say n/a
    c = resolve(parse_feedback("longer sleeves"), {"sleeve": "n/a"})
    assert c.reading() == "sleeves: doesn't apply to this item"
    c = resolve(parse_feedback("longer sleeves"), {}, category="kaftan")
    assert "unknown" in c.reading()  # nothing known: not refused


def test_what_applies_keeps_its_rules_beside_what_does_not():
    p = parse_feedback("in red with long sleeves")
    c = resolve(p, BAG, category="bag")
    assert c.want == {"color": frozenset({"red"})}
    assert c.reading() == "colour → red; sleeves: doesn't apply to bags"
    assert model_text(p, c) == "in red with"
    c = resolve(parse_feedback("make it a dress with long sleeves"), BAG, category="bag")
    assert c.want["sleeve"] == frozenset({"long"}) and not c.not_applicable  # the dress has them
    # "skirt" read as a garment in a dress caption does not take the sleeves away
    c = resolve(parse_feedback("shorter sleeves and a tighter skirt"),
                {"sleeve": "long"}, category="dress")
    assert c.want["sleeve"] and not c.not_applicable


def test_length_and_fit_are_ranked_within_what_the_garment_can_have():
    p = parse_feedback("knee length and looser, in navy")
    c = resolve(p, {"color": "blue", "length": "mini", "fit": "slim"}, category="dress")
    assert c.want == {"color": frozenset({"navy"}), "length": frozenset({"knee"}),
                      "fit": frozenset({"regular", "loose"})}
    assert c.reading() == "colour → navy; length → knee; fit → looser than slim (regular/loose)"
    assert model_text(p, c) == p.text and not p.unread()  # the model still reads all of it
    dress = {"color": "navy", "length": "knee", "fit": "loose"}
    assert penalty(dress, c) == 0 and penalty({**dress, "length": "maxi"}, c) == 1
    # "shorter" of a knee-length dress: mini dresses; of a tee: cropped ones
    assert rules("is shorter", {"length": "knee"}, "dress").want == {"length": frozenset({"mini"})}
    assert rules("is shorter", {"length": "hip"}, "tee").want == {"length": frozenset({"cropped"})}
    longer = rules("is longer", {"length": "mini"}, "dress")
    assert longer.reading() == "length → longer than mini (knee/midi/maxi)"  # not jumpsuits' full
    assert rules("more fitted", {"fit": "regular"}, "shirt").want == {"fit": frozenset({"slim"})}


@pytest.mark.parametrize("text, ref, category, reading", [
    ("is shorter", {}, None, "length → shorter (by the model: the reference's length is "
                             "unknown)"),  # a photo: its length was never read
    ("more fitted", {}, "dress", "fit → more fitted (by the model: the reference's fit is "
                                 "unknown)"),
    ("is long and red", {"length": "mini"}, "dress", "colour → red; length → long (by the model); "
                                                     "length: dresses come mini/knee/midi/maxi"),
    ("knee length", {"length": "full"}, "jumpsuit", "length → knee length (by the model); "
                                                    "length: jumpsuits come cropped/full"),
])
def test_length_and_fit_the_rules_cannot_resolve_are_left_to_the_model(text, ref, category,
                                                                        reading):
    c = rules(text, ref, category)
    assert not ({"length", "fit"} & set(c.want)) and c.reading() == reading


@pytest.mark.parametrize("text, ref, category, want, reading", [
    ("longer", {"length": "maxi"}, "dress", "maxi", "length → maxi (the longest for dresses)"),
    ("tighter", {"fit": "slim"}, "jeans", "slim", "fit → slim (the most fitted for jeans)"),
    ("is shorter", {"length": "hip"}, "shirt", "hip", "length → hip (the shortest for shirts)"),
])
def test_asked_past_the_end_the_end_itself(text, ref, category, want, reading):
    c = rules(text, ref, category)
    assert c.want == {next(iter(ref)): frozenset({want})} and c.reading() == reading


@pytest.mark.parametrize("text, ref, want", [
    ("not so long", {"length": "maxi"}, {"mini", "knee", "midi"}),
    ("not too short", {"length": "mini"}, {"knee", "midi", "maxi"}),
    ("not so tight", {"fit": "slim"}, {"regular", "loose"}),
    ("not as baggy", {"fit": "loose"}, {"slim", "regular"}),
])
def test_not_so_long_means_shorter(text, ref, want):
    c = rules(text, ref, "dress")
    assert c.want == {next(iter(ref)): frozenset(want)} and not c.avoid


def test_a_negated_fit_is_avoided():
    c = rules("not tight", {"fit": "slim"}, "dress")
    assert c.avoid == {"fit": frozenset({"slim"})} and c.reading() == "not: slim fit"


def test_the_reference_category_comes_first_unless_another_is_asked_for():
    c = rules("mini", {"length": "midi"}, "dress")
    dress = {"category": "dress", "length": "mini"}
    romper = {"category": "romper", "length": "mini"}
    long_dress = {"category": "dress", "length": "midi"}
    assert [penalty(x, c) for x in (dress, romper, long_dress)] == [0, 0.25, 1]
    assert penalty_matrix([c], [dress, romper, long_dress])[0].tolist() == [0, 0.25, 1]
    asked = rules("make it a romper", {"length": "midi"}, "dress")
    assert not asked.prefer and penalty(romper, asked) == 0
    assert not rules("similar", {}, "dress")  # a preference alone does not reorder


# -- what "not red" means ----------------------------------------------------------------------
def test_not_red_keeps_the_reference_and_pushes_red_and_dark_red_down():
    p = parse_feedback("is not red")
    c = resolve(p, BAG, category="bag")
    assert c.avoid == {"color": frozenset({"red"})} and not c.want and c.only_avoids
    assert c.avoid_near == {"color": frozenset({"burgundy"})}  # "dark red"
    assert c.prefer["color"] == {"mint"}  # the rest of the reference's look stays
    assert c.reading() == "not: red or shades of it (burgundy); keeping: mint"
    assert model_text(p, c) is None  # the reference itself is the query
    bags = [{"color": "mint", "pattern": "striped"}, {"color": "red", "pattern": "checked"},
            {"color": "burgundy", "pattern": "solid"}, {"color": "orange", "pattern": "solid"},
            {"color": "grey", "pattern": "solid"}]
    assert [penalty(b, c) for b in bags] == [0, 1.25, 0.75, 0.25, 0.25]
    assert penalty_matrix([c], bags)[0].tolist() == [0, 1.25, 0.75, 0.25, 0.25]
    # mint first, then the other clean bags by similarity, burgundy after them, the red check
    # last, whatever the similarity
    scores = np.array([0.1, 0.99, 0.98, 0.3, 0.2])
    assert rank(scores, penalty_matrix([c], bags)[0]).tolist() == [0, 3, 4, 2, 1]


def test_only_negating_keeps_what_the_reference_has_and_the_request_allows():
    striped = {"color": "navy", "pattern": "striped", "sleeve": "long"}
    c = resolve(parse_feedback("no stripes"), striped, category="sweater")
    assert "pattern" not in c.prefer  # its own pattern is the one avoided
    c = resolve(parse_feedback("is not red and has no stripes"), striped, category="sweater")
    assert "color" in c.prefer and "pattern" not in c.prefer
    # a request that also asks for something keeps nothing else on purpose
    c = resolve(parse_feedback("is blue and not striped"), {"color": "mint",
                "pattern": "solid"}, category="sweater")
    assert set(c.prefer) == {"category"}
    # an unknown own value (a photo read unsurely) prefers nothing
    assert "color" not in resolve(parse_feedback("not red"), {}, category="bag").prefer


def test_named_shades_of_a_colour():
    assert named_shades("red") == {"burgundy"}
    assert named_shades("blue") == {"navy", "light blue"}
    assert named_shades("green") == {"dark green", "mint", "olive"}
    assert not named_shades("orange") and not named_shades("grey")


def test_the_reference_colour_is_never_a_shade_to_avoid():
    c = resolve(parse_feedback("not green"), BAG, category="bag")  # a mint bag
    assert c.avoid_near["color"] == {"dark green", "olive"}


def test_negations_with_other_words_leave_those_words_to_the_model():
    p = parse_feedback("has no red in it, more fitted")
    c = resolve(p, {"color": "white"}, category="dress")
    assert model_text(p, c) == "has in it, more fitted"
    # other words may name the shade wanted (a misspelt "wine"): only red itself is avoided
    p = parse_feedback("is wiine rather than red")
    c = resolve(p, {"color": "red"}, category="dress")
    assert c.avoid == {"color": frozenset({"red"})} and not c.avoid_near
    assert model_text(p, c) == "is wiine rather"
    # a request that also asks for something is read whole, as the model was trained
    p = parse_feedback("is blue and not red")
    c = resolve(p, {"color": "red"}, category="dress")
    assert model_text(p, c) == "is blue and not red" and not c.avoid_near


def test_straps_on_a_garment_without_sleeves_are_its_own_straps():
    p = parse_feedback("a bag with thin straps")
    c = resolve(p, BAG, category="bag")
    assert "sleeve" not in c.want and "sleeve" in c.not_applicable  # no sleeve rule
    assert not any("doesn't apply" in n for n in c.notes)  # and no "sleeves" note
    dress = resolve(parse_feedback("with straps"), {"sleeve": "long"}, category="dress")
    assert dress.want["sleeve"] == frozenset({"sleeveless"})  # a dress's straps: sleeveless


@pytest.mark.parametrize("text", ["a shorter skirt", "has a longer skirt", "a tighter skirt"])
def test_the_skirt_of_a_dress_is_its_own(text):
    c = resolve(parse_feedback(text), {"color": "red", "sleeve": "long"}, category="dress")
    assert "category" not in c.want and c.category is None  # no switch to skirts
    assert "garment" not in c.reading()


def test_asking_for_a_skirt_still_switches():
    for text, category in (("make it a skirt", "dress"), ("a shorter skirt", "tee")):
        c = resolve(parse_feedback(text), {"color": "red"}, category=category)
        assert c.want["category"] == frozenset({"skirt"}), text
