"""Auto-tagging of catalog items: what each field may be predicted as."""

from __future__ import annotations


def test_sleeves_are_predicted_only_as_the_category_allows():
    from core.storage.records import Item
    from core.tagging.catalog import _fit_sleeves
    from core.tagging.merge import Prediction

    sleeve = Prediction("long", 0.9, "enc")
    preds = {"category": Prediction("sneakers", 0.8, "enc"), "sleeve": sleeve}
    _fit_sleeves(Item(sku="A", image_path="a.jpg", hash="h"), preds)
    assert preds["sleeve"] == Prediction("n/a", 0.8, "enc")  # as sure as the category
    preds = {"sleeve": sleeve}
    _fit_sleeves(Item(sku="B", image_path="b.jpg", hash="h", category="tee"), preds)
    assert preds["sleeve"] == sleeve  # a tee has sleeves: the head's reading stands
    preds = {"sleeve": sleeve}
    _fit_sleeves(Item(sku="C", image_path="c.jpg", hash="h", category="trousers"), preds)
    assert preds["sleeve"].value == "n/a" and preds["sleeve"].confidence == 1.0
    preds = {"sleeve": sleeve}
    _fit_sleeves(Item(sku="D", image_path="d.jpg", hash="h"), preds)
    assert preds == {}  # category unknown: no sleeves guessed
