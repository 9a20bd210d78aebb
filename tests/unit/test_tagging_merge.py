"""The auto-tagging merge rule and how predicted values read on result cards."""

from __future__ import annotations

from core.storage.records import Item
from core.tagging.labels import attribute_summary, field_label, item_caption, tags_tooltip
from core.tagging.merge import (
    Prediction,
    fields_to_predict,
    prediction_update,
    state,
    supplied_update,
)

MODELS = {"category": "enc:sha256=a", "color": "colour-reader", "pattern": "enc:sha256=a"}


def _item(**kw) -> Item:
    return Item(sku=kw.pop("sku", "s1"), image_path="images/x.jpg", hash="h", **kw)


def _after(item: Item, update) -> Item:
    """The item as stored after an update (dotted $set / $unset applied)."""
    doc = item.to_doc()
    for path, value in update.set_values.items():
        head, _, rest = path.partition(".")
        if rest:
            doc.setdefault(head, {})[rest] = value
        else:
            doc[head] = value
    for path in update.unset:
        head, _, rest = path.partition(".")
        doc[head].pop(rest, None)
    return Item.from_doc(doc)


def test_predictions_fill_missing_fields_with_their_source_and_confidence():
    item = _item()  # a bare photo: category "unknown", no attributes
    assert [state(item, f) for f in MODELS] == ["missing"] * 3
    assert fields_to_predict(item, MODELS) == ["category", "color", "pattern"]
    preds = {"category": Prediction("tee", 0.91, MODELS["category"]),
             "color": Prediction("red", 0.82, "colour-reader", {"second": "white"})}
    tagged = _after(item, prediction_update(item, preds))
    assert tagged.category == "tee" and tagged.attrs == {"color": "red"}
    assert tagged.tags["category"] == {"source": "predicted", "confidence": 0.91,
                                       "model": "enc:sha256=a"}
    assert tagged.tags["color"]["second"] == "white"
    assert state(tagged, "color") == "predicted" and state(tagged, "pattern") == "missing"


def test_predictions_never_overwrite_supplied_values():
    item = _item(category="dress", attrs={"color": "navy"})
    assert fields_to_predict(item, MODELS, redo=True) == ["pattern"]
    preds = {"category": Prediction("tee", 0.99, "m"), "color": Prediction("red", 0.99, "c"),
             "pattern": Prediction("striped", 0.7, "m")}
    tagged = _after(item, prediction_update(item, preds))
    assert tagged.category == "dress" and tagged.attrs == {"color": "navy", "pattern": "striped"}
    assert set(tagged.tags) == {"pattern"}
    marked_user = _item(category="tee", tags={"category": {"source": "user"}})
    assert state(marked_user, "category") == "supplied"
    assert prediction_update(marked_user, {"category": Prediction("hat", 1.0, "m")}) is None


def test_a_value_supplied_later_replaces_a_predicted_one_and_drops_its_tag():
    item = _after(_item(), prediction_update(_item(), {
        "category": Prediction("tee", 0.6, "m"), "color": Prediction("red", 0.5, "c")}))
    update = supplied_update(item, {"color": "burgundy", "season": "winter"})
    assert update.set_values == {"attrs.color": "burgundy"} and update.unset == ("tags.color",)
    fixed = _after(item, update)
    assert state(fixed, "color") == "supplied" and state(fixed, "category") == "predicted"
    assert fields_to_predict(fixed, MODELS, redo=True) == ["category", "pattern"]
    assert supplied_update(fixed, {"color": "burgundy", "category": "unknown"}) is None
    assert supplied_update(fixed, {"color": "navy"}).set_values == {"attrs.color": "navy"}
    assert supplied_update(fixed, {"color": "navy"}, replace_supplied=False) is None


def test_a_category_a_person_gives_corrects_the_sleeves_it_makes_wrong():
    tee = _after(_item(), prediction_update(_item(), {
        "category": Prediction("tee", 0.6, "m"), "sleeve": Prediction("short", 0.9, "m")}))
    shoes = _after(tee, supplied_update(tee, {"category": "sneakers"}))
    assert shoes.attrs["sleeve"] == "n/a" and "sleeve" not in shoes.tags  # as the person said
    back = supplied_update(shoes, {"category": "dress"})
    assert "attrs.sleeve" in back.unset  # "n/a" dropped: the next tagging run reads them
    dress = _after(shoes, back)
    assert state(dress, "sleeve") == "missing"
    # sleeves given with the category, or a category that keeps sleeves, are left as they are
    assert supplied_update(tee, {"category": "dress"}).set_values == {"category": "dress"}
    given = supplied_update(tee, {"category": "sneakers", "sleeve": "n/a"})
    assert given.set_values == {"category": "sneakers", "attrs.sleeve": "n/a"}


def test_the_tag_editor_saves_no_sleeves_for_a_category_without_them():
    from core.tagging.catalog import picked_values

    picks = {"category": "sneakers", "color": "red", "pattern": None, "sleeve": "short"}
    assert picked_values(picks) == {"category": "sneakers", "color": "red"}
    assert picked_values({**picks, "category": "tee"})["sleeve"] == "short"


def test_reruns_update_predicted_fields_only_when_stale_or_asked():
    item = _after(_item(attrs={"pattern": "solid"}), prediction_update(
        _item(attrs={"pattern": "solid"}),
        {"category": Prediction("tee", 0.6, MODELS["category"]),
         "color": Prediction("red", 0.5, "colour-reader")}))
    assert fields_to_predict(item, MODELS) == []  # up to date, pattern supplied
    newer = {**MODELS, "category": "enc:sha256=b"}
    assert fields_to_predict(item, newer) == ["category"]  # a new encoder re-predicts
    assert fields_to_predict(item, MODELS, redo=True) == ["category", "color"]
    same = prediction_update(item, {"category": Prediction("tee", 0.6, MODELS["category"])})
    assert same is None  # nothing changes, nothing is written
    again = _after(item, prediction_update(item, {"category": Prediction("top", 0.7, "x")}))
    assert again.category == "top" and again.tags["category"]["confidence"] == 0.7
    assert again.attrs["pattern"] == "solid" and "pattern" not in again.tags


def test_labels_mark_predicted_values_with_their_confidence():
    item = _item(category="tee", attrs={"color": "blue", "pattern": "solid"},
                 tags={"color": {"source": "predicted", "confidence": 0.823,
                                 "second": "white"}})
    assert field_label(item, "category") == "tee"
    assert field_label(item, "color") == "≈blue 82 %"
    assert field_label(item, "color", compact=False) == "blue (predicted, 82 %)"
    assert item_caption(item, 0.5) == "0.500 · tee · ≈blue 82 % · solid"
    assert item_caption(_item()) == "unknown"
    assert tags_tooltip(item) == "≈ predicted from the photo: colour blue (82 %, with white)"
    assert tags_tooltip(_item(category="tee")) is None


def test_attribute_summary_marks_predicted_attributes():
    item = _item(attrs={"color": "red", "season": "summer", "fit": ""},
                 tags={"color": {"source": "predicted", "confidence": 0.5}})
    assert attribute_summary(item) == "color: red (predicted, 50 %) · season: summer"


def test_product_card_names_the_item_its_price_and_a_match_percentage():
    from core.tagging.labels import md_escape, product_card

    item = Item(sku="D1", image_path="x.jpg", hash="h", category="coat",
                attrs={"color": "red", "pattern": "solid"}, name="Wool *coat*", price=129.5,
                brand="Northwind")
    card = product_card(item, 0.874)
    assert card == {"title": "Wool *coat*", "offer": "€129.50 · Northwind",
                    "facts": "coat · red · solid", "score": "87\u00a0% match", "sku": "D1"}
    bare = product_card(Item(sku="D2", image_path="y.jpg", hash="g", category="tee", name=""))
    assert bare["title"] == "D2" and bare["offer"] == "" and bare["score"] == ""
    assert md_escape("Wool *coat* #1") == "Wool \\*coat\\* \\#1"


def test_a_refine_result_shows_its_sleeves_length_and_fit():
    from core.tagging.labels import shape_caption

    dress = Item(sku="D3", image_path="d.jpg", hash="h3", category="dress",
                 attrs={"color": "navy", "pattern": "solid", "sleeve": "short",
                        "length": "knee", "fit": "slim"})
    assert shape_caption(dress, 0.79) == "dress · navy · solid · short · knee · slim · " \
                                         "79\u00a0% match"
    bag = Item(sku="B1", image_path="b.jpg", hash="h4", category="bag",
               attrs={"color": "mint", "pattern": "solid", "sleeve": "n/a", "length": "n/a"})
    assert shape_caption(bag) == "bag · mint · solid"
