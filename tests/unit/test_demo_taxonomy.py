"""The shared fashion taxonomy: coverage, colour relations, plausibility, mask decoding."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core import taxonomy as tx
from core.demo.specs import option_weights


def test_categories_cover_the_category_label_set_and_the_other_families():
    assert len(tx.CATEGORIES) >= 15
    assert set(tx.LABEL_CSV_CATEGORIES) <= set(tx.CATEGORIES)
    for name in ("trousers", "jeans", "shorts", "skirt", "sneakers", "boots", "heels", "bag",
                 "hat"):
        assert name in tx.CATEGORIES
    for cat in tx.CATEGORIES.values():
        assert cat.family in tx.FAMILIES
        assert cat.segment in tx.SEGMENT_COLORS
        assert cat.gender and set(cat.gender) <= set(tx.GENDERS)
    assert {c.family for c in tx.CATEGORIES.values()} == set(tx.FAMILIES)


def test_segment_palette_is_distinct_with_black_background():
    assert tx.SEGMENT_COLORS["background"] == (0, 0, 0)
    assert len(set(tx.SEGMENT_COLORS.values())) == len(tx.SEGMENT_COLORS)
    for label in ("top", "outer", "skirt", "dress", "pants", "footwear", "bag", "headwear",
                  "hair", "skin", "face"):
        assert label in tx.SEGMENT_COLORS


def test_vocabularies_are_large_enough():
    assert len(tx.COLORS) >= 12
    assert {"solid", "striped", "checked", "dotted", "floral", "denim", "graphic"} <= set(
        tx.PATTERNS)
    assert tx.SLEEVES == ("sleeveless", "short", "three-quarter", "long")
    assert tx.FITS == ("slim", "regular", "loose")
    assert set(tx.SEASONS) == {"spring", "summer", "autumn", "winter"}


def test_lighter_and_darker_are_mutual():
    for name, colour in tx.COLORS.items():
        if colour.lighter:
            assert tx.COLORS[colour.lighter].darker == name
            assert tx.luminance(colour.lighter) > tx.luminance(name)
            assert tx.shade_relation(name, colour.lighter) == "lighter"
        if colour.darker:
            assert tx.COLORS[colour.darker].lighter == name
            assert tx.shade_relation(name, colour.darker) == "darker"
    assert tx.shade_relation("navy", "light blue") == "lighter"
    assert tx.shade_relation("red", "blue") is None


def test_colour_relations_for_coordination():
    assert tx.colour_relation("red", "red") == "same"
    assert tx.colour_relation("navy", "orange") == "neutral"
    assert tx.colour_relation("red", "pink") == "analogous"
    assert tx.colour_relation("blue", "orange") == "complementary"
    assert tx.colour_relation("red", "green") in {"complementary", "clash"}
    assert tx.colour_relation("yellow", "purple") == "complementary"


@pytest.mark.parametrize("category", list(tx.CATEGORIES))
def test_every_weighted_option_is_plausible(category):
    for attr in tx.ATTRIBUTES:
        weights = option_weights(category, attr)
        assert weights and set(weights) <= set(tx.allowed_values(category, attr))


def test_plausibility_rules():
    family = {c: info.family for c, info in tx.CATEGORIES.items()}
    for cat, fam in family.items():
        sleeves = tx.allowed_values(cat, "sleeve")
        if fam in ("bottom", "shoes", "bag", "hat"):
            assert sleeves == (tx.NA,)
        else:
            assert tx.NA not in sleeves
    assert tx.allowed_values("tank", "sleeve") == ("sleeveless",)
    denim = [c for c in tx.CATEGORIES if "denim" in tx.allowed_values(c, "pattern")]
    assert "jeans" in denim and "jacket" in denim and "heels" not in denim
    assert option_weights("jeans", "pattern")["denim"] > 0.5 * sum(
        option_weights("jeans", "pattern").values())
    ok = {"color": "blue", "pattern": "denim", "season": "autumn", "sleeve": "n/a",
          "length": "full", "fit": "slim"}
    assert tx.plausibility_errors("jeans", ok) == []
    assert tx.plausibility_errors("skirt", {**ok, "sleeve": "long", "length": "midi"})
    assert tx.plausibility_errors("jeans", {**ok, "color": "pink"})  # no pink denim
    assert tx.plausibility_errors("scarf", ok) == ["unknown category 'scarf'"]


def test_labels_from_rgb_and_index_masks():
    labels = np.zeros((4, 5), dtype=np.uint8)
    labels[1:3, 1:4] = tx.SEGMENT_INDEX["dress"]
    labels[0, 0] = tx.SEGMENT_INDEX["hair"]
    rgb = np.array(list(tx.SEGMENT_COLORS.values()), dtype=np.uint8)[labels]
    assert (tx.labels_from_mask(Image.fromarray(rgb)) == labels).all()
    assert (tx.labels_from_mask(labels) == labels).all()
    near = rgb.astype(int)
    near[1, 1] += 3  # JPEG-ish noise still decodes to the nearest label
    assert tx.labels_from_mask(np.clip(near, 0, 255).astype(np.uint8))[1, 1] == labels[1, 1]
    garment = tx.garment_mask(Image.fromarray(rgb))
    assert garment.sum() == 6 and not garment[0, 0]


def test_nearest_colour_and_rank():
    for name, colour in tx.COLORS.items():
        assert tx.nearest_colour(colour.rgb) == name
    assert tx.rank("sleeve", "long") > tx.rank("sleeve", "short")
    assert tx.rank("length", "maxi") > tx.rank("length", "knee")
    assert tx.rank("fit", "loose") > tx.rank("fit", "slim")
    assert tx.rank("color", "red") is None
