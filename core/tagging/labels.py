"""How an item's category, colour and pattern read on screen: predicted values are marked."""

from __future__ import annotations

from core.storage.records import Item
from core.tagging.merge import MISSING_VALUES, PREDICTED, TAG_FIELDS, value_of

MARK = "≈"  # in front of a predicted value
FIELD_WORDS = {"category": "category", "color": "colour", "pattern": "pattern"}


def predicted_tag(item: Item, name: str) -> dict | None:
    """The predicted tag of a field that holds a value, else None (supplied or missing)."""
    tag = item.tags.get(name) or {}
    if tag.get("source") != PREDICTED or value_of(item, name) in MISSING_VALUES:
        return None
    return tag


def percent(confidence: float) -> str:
    return f"{round(100 * float(confidence))} %"


def field_label(item: Item, name: str, *, compact: bool = True) -> str:
    """A field's value as shown: "blue" when supplied, "≈blue 82 %" (compact) or "blue
    (predicted, 82 %)" when predicted; "" when missing."""
    value = value_of(item, name)
    if value in MISSING_VALUES:
        return "" if name != "category" else str(value or "unknown")
    tag = predicted_tag(item, name)
    if tag is None:
        return str(value)
    conf = percent(tag.get("confidence", 0.0))
    return f"{MARK}{value} {conf}" if compact else f"{value} (predicted, {conf})"


def item_caption(item: Item, score: float | None = None) -> str:
    """A result card's caption: score · category · colour · pattern, predicted ones marked."""
    bits = [field_label(item, name) for name in TAG_FIELDS]
    text = " · ".join(b for b in bits if b)
    return f"{score:.3f} · {text}" if score is not None else text


def tags_tooltip(item: Item) -> str | None:
    """What was predicted from the photo and how sure it is (None when nothing was)."""
    parts = []
    for name in TAG_FIELDS:
        tag = predicted_tag(item, name)
        if tag is None:
            continue
        text = f"{FIELD_WORDS[name]} {value_of(item, name)} ({percent(tag.get('confidence', 0))}"
        text += f", with {tag['second']})" if tag.get("second") else ")"
        parts.append(text)
    if not parts:
        return None
    return f"{MARK} predicted from the photo: " + "; ".join(parts)


def attribute_summary(item: Item) -> str:
    """"color: blue (predicted, 82 %) · season: summer": every attribute, predicted marked."""
    return " · ".join(f"{k}: {field_label(item, k, compact=False) if k in TAG_FIELDS else v}"
                      for k, v in item.attrs.items() if v)
