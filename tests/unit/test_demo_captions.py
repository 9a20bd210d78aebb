"""Feedback captions and reference→target pairs."""

from __future__ import annotations

import numpy as np

from core.demo.captions import captions_for
from core.demo.pairs import make_pairs
from core.demo.specs import changes_between, sample_catalog, sibling
from core.taxonomy import plausibility_errors


def _many(changes, n=60, seed=0):
    rng = np.random.default_rng(seed)
    return [c for _ in range(n) for c in captions_for(changes, rng, 3)]


def test_captions_name_the_change():
    checks = {
        ("color", "blue", "red"): ("red",),
        ("color", "navy", "blue"): ("blue", "lighter"),
        ("pattern", "solid", "striped"): ("strip",),
        ("pattern", "floral", "solid"): ("solid", "plain", "no pattern", "without"),
        ("sleeve", "long", "sleeveless"): ("sleeveless", "no sleeves", "without sleeves",
                                           "shorter sleeves", "less sleeve", "sleeves shorter",
                                           "remove the sleeves"),
        ("sleeve", "short", "long"): ("long", "more sleeve", "full length"),
        ("length", "knee", "maxi"): ("longer", "maxi", "floor", "more length"),
        ("fit", "slim", "loose"): ("loose", "less fitted", "relaxed", "baggier", "oversized",
                                   "roomier"),
        ("category", "tee", "tank"): ("tank",),
    }
    for (attr, old, new), words in checks.items():
        for text in _many({attr: [old, new]}, n=20):
            assert text.strip()
            assert any(w in text.lower() for w in words), (attr, old, new, text)


def test_captions_are_varied():
    texts = _many({"color": ["black", "grey"], "pattern": ["solid", "dotted"]}, n=80)
    assert len(set(texts)) >= 60
    assert any(t == t.lower() for t in texts) and any(t[0].isupper() for t in texts)
    assert any(t.endswith(".") for t in texts) and any(not t.endswith(".") for t in texts)
    joined = " | ".join(texts)
    assert " and " in joined and ("; " in joined or ", " in joined)
    single = _many({"sleeve": ["long", "sleeveless"]}, n=80)
    assert any(t.lower().startswith(("same but", "same thing but", "like this but"))
               for t in single)
    three = captions_for({"fit": ["regular", "slim"]}, np.random.default_rng(1), 3)
    assert len({t.lower().rstrip(".") for t in three}) == 3


def test_siblings_differ_in_one_or_two_plausible_attributes():
    rng = np.random.default_rng(4)
    for base in sample_catalog(60, seed=4):
        sib = sibling(rng, base)
        if sib is None:
            continue
        assert 1 <= len(changes_between(base, sib)) <= 2
        assert plausibility_errors(sib["category"], sib["attrs"]) == []


def test_pairs_match_the_items():
    items = sample_catalog(300, seed=5)
    by_sku = {i["sku"]: i for i in items}
    pairs = make_pairs(items, np.random.default_rng(0), 250)
    assert len(pairs) == 250
    for p in pairs:
        ref, tgt = by_sku[p["reference"]], by_sku[p["target"]]
        assert p["changes"] == changes_between(ref, tgt)
        assert 1 <= len(p["changes"]) <= 2
        assert ref["split"] == tgt["split"] == p["split"]
        assert ref["family"] == tgt["family"]
        assert len(p["captions"]) >= 2 and all(c.strip() for c in p["captions"])
    assert len({(p["reference"], p["target"]) for p in pairs}) == len(pairs)
    kinds = {a for p in pairs for a in p["changes"]}
    assert {"color", "pattern", "category"} <= kinds
    assert {"train", "test"} <= {p["split"] for p in pairs}
