"""How an item's category, colour and pattern read on screen: predicted values are marked."""

from __future__ import annotations

from collections.abc import Sequence

from core.storage.records import Item
from core.tagging.merge import MISSING_VALUES, PREDICTED, TAG_FIELDS, value_of
from core.taxonomy import COLORS

MARK = "≈"  # in front of a predicted value
FIELD_WORDS = {"category": "category", "color": "colour", "pattern": "pattern",
               "sleeve": "sleeves"}
CAPTION_FIELDS = ("category", "color", "pattern")  # what a result card's caption names


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
    bits = [field_label(item, name) for name in CAPTION_FIELDS]
    text = " · ".join(b for b in bits if b)
    return f"{score:.3f} · {text}" if score is not None else text


def shape_caption(item: Item, score: float | None = None,
                  attrs: tuple[str, ...] = ("sleeve", "length", "fit")) -> str:
    """A Refine result's caption: category · colour · pattern, then its sleeves, length and
    fit (what Refine requests change; "n/a" ones left out), then the match."""
    shape = [str(v) for a in attrs if (v := (item.attrs or {}).get(a)) and v != "n/a"]
    return " · ".join(b for b in (item_caption(item), *shape, match_text(score)) if b)


def price_text(price: float | None) -> str:
    """"€49.90" style price ("" when unknown)."""
    if price is None or not isinstance(price, int | float) or price != price:
        return ""
    return f"€{price:,.2f}"


def product_card(item: Item, score: float | None = None) -> dict[str, str]:
    """What a result card shows, line by line: ``title`` (the item's name, else its sku),
    ``offer`` (price · brand), ``facts`` (category · colour · pattern, predicted ones marked)
    and ``score`` (a match percentage, "" without a score); the sku goes in ``sku``."""
    name = (item.name or "").strip()
    title = name[:60] + ("…" if len(name) > 60 else "") if name else item.sku
    offer = " · ".join(b for b in (price_text(item.price), (item.brand or "").strip()) if b)
    return {"title": title, "offer": offer, "facts": item_caption(item),
            "score": match_text(score), "sku": item.sku}


def md_escape(text: str) -> str:
    """Text to show through Markdown as it is (no emphasis, links or headings)."""
    return "".join("\\" + c if c in MD_SPECIAL else c for c in str(text))


MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>~$")


def match_text(score: float | None) -> str:
    """A similarity or compatibility score as a percentage ("87 % match"), "" for None."""
    if score is None:
        return ""
    # a no-break space: a narrow card never breaks "87" from "% match"
    return f"{round(100 * max(0.0, min(1.0, float(score))))}\u00a0% match"


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


def swatch(colour: str) -> str:
    """HTML: a small round swatch of a palette colour (grey for a name outside it)."""
    rgb = COLORS[colour].rgb if colour in COLORS else (200, 200, 200)
    return (f"<span style='display:inline-block;width:0.9em;height:0.9em;border-radius:50%;"
            f"border:1px solid #999;vertical-align:middle;background:rgb{rgb}'></span>")


def swatches(colours: Sequence[str]) -> str:
    """HTML: each colour name after a small swatch of it."""
    return " &nbsp; ".join(f"{swatch(name)}&nbsp;{name}" for name in colours)
