"""Outfit style rules on hand-made outfits, and the generator's outfits against them."""

from __future__ import annotations

import numpy as np

from core.demo import outfits as of
from core.demo.specs import sample_catalog


def _item(category, color="white", pattern="solid", season="autumn", gender="women"):
    return {"sku": f"{category}-{color}-{pattern}-{season}", "category": category,
            "gender": gender, "attrs": {"color": color, "pattern": pattern, "season": season}}


GOOD = [_item("shirt", "white"), _item("trousers", "navy"), _item("boots", "brown"),
        _item("blazer", "burgundy"), _item("bag", "beige")]


def test_a_classic_outfit_is_compatible():
    assert of.violations(GOOD) == []
    assert of.is_compatible(GOOD)
    assert of.is_compatible([_item("dress", "red", "floral", "summer"),
                             _item("sandals", "beige", season="summer")])
    assert of.style_of(GOOD) in {"smart casual", "formal"}
    assert "shirt+trousers+boots" in of.describe(GOOD)


def test_each_rule_catches_its_fault():
    cases = {
        "missing shoes": GOOD[:2],
        "two bottoms": [*GOOD, _item("skirt", "black")],
        "a one-piece worn with separates": [*GOOD, _item("dress", "black")],
        "clashing colours": [*GOOD[:4], _item("bag", "green")],
        "two prints": [_item("shirt", "white", "striped"), _item("trousers", "grey", "checked"),
                       _item("boots")],
        "summer piece with winter piece": [_item("tank", season="summer"),
                                           _item("jeans", "blue", "denim"),
                                           _item("boots", "black", season="winter")],
        "formality clash": [_item("hoodie"), _item("trousers", "black"), _item("heels")],
        "mixes women's and men's pieces": [_item("shirt", gender="men"), _item("jeans", "blue",
                                           "denim"), _item("boots")],
        "needs a top and a bottom": [_item("jeans", "blue", "denim"), _item("sneakers")],
    }
    for reason, outfit in cases.items():
        found = of.violations(outfit)
        assert any(v.startswith(reason) for v in found), (reason, found)
        assert not of.is_compatible(outfit)


def test_shades_of_one_hue_and_denim_count_as_one_accent():
    outfit = [_item("top", "pink"), _item("skirt", "burgundy"), _item("heels", "red")]
    assert of.colour_violation(outfit) is None
    denim = [_item("tee", "orange"), _item("jeans", "blue", "denim"), _item("sneakers")]
    assert of.colour_violation(denim) is None
    assert of.colour_violation([_item("tee", "orange"), _item("shorts", "blue"),
                                _item("sandals")]) == "clashing colours: blue with orange"


def test_partial_outfits_are_not_faulted_for_missing_pieces():
    assert of.violations(GOOD[:1], complete=False) == []
    assert of.violations([GOOD[1], _item("skirt")], complete=False) == ["two bottoms"]


def test_generated_outfits_follow_or_break_the_rules():
    items = sample_catalog(400, seed=2)
    by_sku = {i["sku"]: i for i in items}
    outfits = of.make_outfits(items, np.random.default_rng(0), 60)
    assert len(outfits) >= 40
    compatible = [o for o in outfits if o["compatible"]]
    broken = [o for o in outfits if not o["compatible"]]
    assert len(compatible) >= 15 and len(broken) >= 15
    for o in outfits:
        members = [by_sku[s] for s in o["items"]]
        faults = of.violations(members)
        assert o["compatible"] == (not faults)
        assert o["rule"]
        if not o["compatible"]:
            assert o["rule"] == "; ".join(faults)
        assert {m["split"] for m in members} == {o["split"]}
        assert len(set(o["items"])) == len(o["items"])
    assert len({o["outfit_id"] for o in outfits}) == len(outfits)
    assert {o["split"] for o in outfits} == {"train", "val", "test"}
