"""How predicted tags and supplied values meet on an item: the merge rule.

A field (category, colour, pattern, sleeves) is *missing* (no value, or "unknown"), *predicted* (its
tag says ``source: "predicted"``) or *supplied* (a value without a predicted tag). Predictions
fill missing fields and refresh predicted ones; they never touch a supplied value. A value a
person supplies later replaces a predicted one and drops its tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.storage.records import Item, ItemUpdate

PREDICTED = "predicted"
# Tagged fields and where their value lives in an item document.
TAG_FIELDS: dict[str, str] = {"category": "category", "color": "attrs.color",
                              "pattern": "attrs.pattern", "sleeve": "attrs.sleeve"}
MISSING_VALUES = (None, "", "unknown")


@dataclass(frozen=True)
class Prediction:
    """A predicted value with its confidence (0..1), the model that made it and any details
    (a colour's second colour, share and pixel method)."""

    value: str
    confidence: float
    model: str
    details: dict[str, Any] = field(default_factory=dict)

    def tag(self) -> dict[str, Any]:
        """The tag stored beside the value."""
        return {"source": PREDICTED, "confidence": round(float(self.confidence), 4),
                "model": self.model, **self.details}


def value_of(item: Item, name: str) -> Any:
    """An item's current value of a tagged field."""
    return item.category if name == "category" else item.attrs.get(name)


def state(item: Item, name: str) -> str:
    """"missing", "predicted" or "supplied"."""
    if (item.tags.get(name) or {}).get("source") == PREDICTED:
        return "predicted" if value_of(item, name) not in MISSING_VALUES else "missing"
    return "missing" if value_of(item, name) in MISSING_VALUES else "supplied"


def fields_to_predict(item: Item, models: Mapping[str, str], *, redo: bool = False
                      ) -> list[str]:
    """Fields of ``item`` a tagger with ``models`` (field -> model id) should (re)predict:
    missing ones, and predicted ones made by another model (every predicted one with
    ``redo``); never a supplied one."""
    out = []
    for name, model in models.items():
        now = state(item, name)
        stale = now == "predicted" and (redo or item.tags[name].get("model") != model)
        if now == "missing" or stale:
            out.append(name)
    return out


def prediction_update(item: Item, predictions: Mapping[str, Prediction]) -> ItemUpdate | None:
    """The change writing ``predictions`` into ``item`` under the merge rule (None if none)."""
    values: dict[str, Any] = {}
    for name, pred in predictions.items():
        if state(item, name) == "supplied":
            continue
        tag = pred.tag()
        if value_of(item, name) == pred.value and item.tags.get(name) == tag:
            continue
        values[TAG_FIELDS[name]] = pred.value
        values[f"tags.{name}"] = tag
    return ItemUpdate(item.sku, values) if values else None


def supplied_update(item: Item, values: Mapping[str, Any], *, replace_supplied: bool = True
                    ) -> ItemUpdate | None:
    """The change writing values a person supplied (field -> value): they replace predicted
    and missing ones and drop their tags; an earlier supplied value is replaced when it
    differs, unless ``replace_supplied`` is off."""
    out: dict[str, Any] = {}
    unset: list[str] = []
    for name, value in values.items():
        if name not in TAG_FIELDS or value in MISSING_VALUES:
            continue
        if state(item, name) == "supplied" and (value_of(item, name) == value
                                                or not replace_supplied):
            continue
        out[TAG_FIELDS[name]] = value
        if name in item.tags:
            unset.append(f"tags.{name}")
    if "category" in out and "sleeve" not in values:
        _sleeves_of_category(item, out["category"], out, unset)
    return ItemUpdate(item.sku, out, tuple(unset)) if out else None


def _sleeves_of_category(item: Item, category: str, out: dict[str, Any], unset: list[str]
                         ) -> None:
    """Sleeves made wrong by a category a person supplies: "n/a" (as supplied) when the new
    category has none (a tee corrected to sneakers); dropped when they were "n/a" and the new
    category has sleeves (the next ``tag`` run predicts them)."""
    from core.taxonomy import NA, applies

    has, now = applies("sleeve", category), item.attrs.get("sleeve")
    if has is False and now != NA:
        out[TAG_FIELDS["sleeve"]] = NA
    elif has and now == NA:
        unset.append(TAG_FIELDS["sleeve"])
    else:
        return
    if "sleeve" in item.tags:
        unset.append("tags.sleeve")
