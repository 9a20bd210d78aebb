"""Which requests apply to a garment: sleeves, lengths and fits some garments lack ("longer
sleeves" for a bag), and the words that name a garment's own parts ("a shorter skirt" of a
dress, "thin straps" of a bag) rather than another garment."""

from __future__ import annotations

from collections.abc import Mapping

from core.feedback.parse import MODEL_KINDS, ParsedFeedback
from core.taxonomy import NA, applies, plural

SCOPED_ATTRS = ("sleeve", "length", "fit")  # attributes some garments lack


def not_applicable(parsed: ParsedFeedback, ref_attrs: Mapping[str, str | None],
                   category: str | None, family: str | None) -> dict[str, str]:
    """Attributes the text names that the garment lacks -> the garment ("bags"): neither the
    reference (its category, else its family; an item outside the taxonomy lacks what its
    attributes say "n/a") nor a category the text asks for can have them ("shorter sleeves
    and a tighter skirt" of a dress reads "skirt" as a category, the sleeves still apply)."""
    asked = parsed.requested("category") or frozenset()
    out: dict[str, str] = {}
    for attr in dict.fromkeys(m.attr for m in parsed.mentions if m.attr in SCOPED_ATTRS):
        ok = applies(attr, category, family)
        if ok is None:
            ok = ref_attrs.get(attr) != NA
        if ok or any(applies(attr, c) for c in asked):
            continue
        where = min(asked) if asked else category or family
        out[attr] = plural(where) if where else "this item"
    return out


def skirt_of_a_dress(parsed: ParsedFeedback, family: str | None) -> bool:
    """Whether "skirt" names the reference's own skirt ("a shorter skirt" of a dress or a
    jumpsuit: its length, read by the model), not a request for a skirt."""
    if family != "full":
        return False
    asked = [m for m in parsed.mentions if m.kind == "category" and not m.negated]
    return len(asked) == 1 and asked[0].value == frozenset({"skirt"}) and any(
        m.kind in MODEL_KINDS and m.end == asked[0].start for m in parsed.mentions)


def only_straps(parsed: ParsedFeedback, attr: str) -> bool:
    """Whether every mention of ``attr`` is a strap word ("a bag with straps"): for a garment
    without sleeves those name its own straps, left out without a note."""
    said = [parsed.words(m) for m in parsed.mentions if m.attr == attr]
    return attr == "sleeve" and bool(said) and all("strap" in w for w in said)
