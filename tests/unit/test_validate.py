"""core.storage.validate: the gate every catalog item passes before it is stored."""

from __future__ import annotations

import pytest

from core.storage import Item
from core.storage.validate import InvalidField, check_sku, validate_item


@pytest.mark.parametrize("sku", ["D000001", "img-3695b0166de2", "demo-0000", "df-img-Floral-1",
                                 "T005", "a_b-C9", "S" * 64])
def test_skus_the_importers_make_are_valid(sku):
    assert check_sku(sku) == sku


@pytest.mark.parametrize("sku", ["$where", "a.b.c", "-lead", "A 1", "", "S" * 65, "a\nb", 7.5])
def test_bad_skus_are_refused(sku):
    with pytest.raises(InvalidField, match="^sku: "):
        check_sku(sku)


def _item(**changes) -> Item:
    item = Item(sku="D000001", image_path="images/ab/x.jpg", hash="ab" * 32, category="tee",
                attrs={"color": "red"}, name="Red tee", price=12.5, split="train",
                extra={"file": "a.jpg", "render": {"seed": 3}})
    for key, value in changes.items():
        setattr(item, key, value)
    return item


def test_a_good_item_passes():
    assert validate_item(_item()).sku == "D000001"


@pytest.mark.parametrize(("change", "field"), [
    ({"attrs": {"color": {"$gt": ""}}}, "attrs.color"),
    ({"attrs": {"a.b": "x"}}, "attrs.a.b"),
    ({"category": "$where"}, "category"),
    ({"name": "two\nlines"}, "name"),
    ({"price": float("nan")}, "price"),
    ({"price": -1.0}, "price"),
    ({"split": "holdout"}, "split"),
    ({"extra": {"$where": 1}}, "extra.$where"),
    ({"extra": {"render": {"a.b": 1}}}, "extra.render.a.b"),
    ({"tags": {"color": {"confidence": float("inf")}}}, "tags.color.confidence"),
])
def test_bad_fields_are_named(change, field):
    with pytest.raises(InvalidField) as info:
        validate_item(_item(**change))
    assert info.value.field == field
