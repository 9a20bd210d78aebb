"""Outfit style rules, and the demo's compatible and deliberately broken outfits.

An item here is any mapping with ``category`` and ``attrs`` (``color``, ``pattern``,
``season``) and optionally ``gender``: the demo's items.jsonl records or stored items.
``violations(items)`` lists every rule an outfit breaks; a later compatibility model can be
trained on the demo outfits and checked against these rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from core.taxonomy import CATEGORIES, COLORS, hue_distance

PRINTS = frozenset({"striped", "checked", "dotted", "floral", "graphic"})
SAME_HUE_DEGREES = 25  # shades within this many degrees count as one accent colour
MAX_FORMALITY_SPREAD = 2
ACCESSORY_FAMILIES = frozenset({"bag", "hat"})


def _family(item) -> str:
    return CATEGORIES[item["category"]].family


def is_accent(item) -> bool:
    """A non-neutral colour; denim counts as a neutral, as stylists treat it."""
    attrs = item["attrs"]
    return attrs.get("pattern") != "denim" and not COLORS[attrs["color"]].neutral


def structure_violation(items: Sequence, complete: bool = True) -> str | None:
    """Pieces: a top and a bottom or a one-piece, one pair of shoes, at most one of the rest."""
    fam = Counter(_family(i) for i in items)
    for family, what in (("bottom", "two bottoms"), ("shoes", "two pairs of shoes"),
                         ("full", "two one-pieces"), ("top", "two tops"),
                         ("outer", "two outer layers"), ("bag", "two bags"), ("hat", "two hats")):
        if fam[family] > 1:
            return what
    if fam["full"] and (fam["top"] or fam["bottom"]):
        return "a one-piece worn with separates"
    if complete:
        if not fam["shoes"]:
            return "missing shoes"
        if not fam["full"] and not (fam["top"] and fam["bottom"]):
            return "needs a top and a bottom, or a one-piece"
    return None


def colour_violation(items: Sequence) -> str | None:
    """Neutrals plus at most one accent colour (shades of one hue count as one)."""
    accents = sorted({i["attrs"]["color"] for i in items if is_accent(i)})
    for a_i, a in enumerate(accents):
        for b in accents[a_i + 1:]:
            if hue_distance(a, b) > SAME_HUE_DEGREES:
                return f"clashing colours: {a} with {b}"
    return None


def pattern_violation(items: Sequence) -> str | None:
    """At most one printed piece (solids and denim mix with anything)."""
    prints = [i for i in items if i["attrs"].get("pattern") in PRINTS]
    if len(prints) > 1:
        return f"two prints: {prints[0]['attrs']['pattern']} with {prints[1]['attrs']['pattern']}"
    return None


def season_violation(items: Sequence) -> str | None:
    """Summer pieces and winter pieces do not go together."""
    seasons = {i["attrs"].get("season") for i in items}
    if {"summer", "winter"} <= seasons:
        return "summer piece with winter piece"
    return None


def formality_violation(items: Sequence) -> str | None:
    """Garments and shoes within MAX_FORMALITY_SPREAD formality levels of each other."""
    worn = [i for i in items if _family(i) not in ACCESSORY_FAMILIES]
    if len(worn) < 2:
        return None
    lo = min(worn, key=lambda i: CATEGORIES[i["category"]].formality)
    hi = max(worn, key=lambda i: CATEGORIES[i["category"]].formality)
    spread = CATEGORIES[hi["category"]].formality - CATEGORIES[lo["category"]].formality
    if spread > MAX_FORMALITY_SPREAD:
        return f"formality clash: {lo['category']} with {hi['category']}"
    return None


def gender_violation(items: Sequence) -> str | None:
    genders = {i.get("gender") for i in items}
    if {"women", "men"} <= genders:
        return "mixes women's and men's pieces"
    return None


RULES: dict[str, Callable[[Sequence], str | None]] = {
    "structure": structure_violation,
    "colour": colour_violation,
    "pattern": pattern_violation,
    "season": season_violation,
    "formality": formality_violation,
    "gender": gender_violation,
}


def violations(items: Sequence, complete: bool = True) -> list[str]:
    """Every rule the outfit breaks, as short reasons (empty when it is compatible).

    ``complete=False`` checks a partial outfit: missing pieces are not yet a fault.
    """
    out = []
    for name, rule in RULES.items():
        reason = structure_violation(items, complete) if name == "structure" else rule(items)
        if reason:
            out.append(reason)
    return out


def is_compatible(items: Sequence) -> bool:
    return not violations(items)


def style_of(items: Sequence) -> str:
    """casual / smart casual / formal from the garments' mean formality."""
    worn = [CATEGORIES[i["category"]].formality for i in items
            if _family(i) not in ACCESSORY_FAMILIES]
    mean = sum(worn) / max(len(worn), 1)
    return "casual" if mean < 1.5 else ("smart casual" if mean < 2.75 else "formal")


def describe(items: Sequence) -> str:
    """Why a compatible outfit works, in one line."""
    pieces = "+".join(i["category"] for i in items)
    accents = sorted({i["attrs"]["color"] for i in items if is_accent(i)})
    colour = f"neutrals with {accents[0]}" if accents else "all neutrals"
    if len(accents) > 1:
        colour = f"neutrals with shades of {accents[0]}"
    seasons = sorted({i["attrs"]["season"] for i in items})
    return f"{pieces}; {colour}; {'/'.join(seasons)}; {style_of(items)}"


# Generating the demo's outfits ------------------------------------------------------------
TEMPLATES = (("top", "bottom", "shoes"), ("full", "shoes"))
OPTIONAL = (("outer", 0.35), ("bag", 0.4), ("hat", 0.2))
BREAKS = ("colour", "pattern", "season", "formality", "gender", "two bottoms", "missing shoes",
          "one-piece with separates")


def _compose(rng, pool: dict[str, list]) -> list | None:
    """One compatible outfit drawn from a split's items by family, or None."""
    template = TEMPLATES[0] if rng.random() < 0.65 else TEMPLATES[1]
    slots = list(template) + [fam for fam, p in OPTIONAL if rng.random() < p]
    chosen: list = []
    for fam in slots:
        cands = pool.get(fam, [])
        for k in rng.permutation(len(cands))[:80]:
            if not violations([*chosen, cands[int(k)]], complete=False):
                chosen.append(cands[int(k)])
                break
        else:
            if fam in template:
                return None
    return chosen if is_compatible(chosen) else None


def _swap_for(rng, items: list, pool: dict[str, list], rule) -> list | None:
    """Replace one piece so that ``rule`` is broken."""
    for pos in rng.permutation(len(items)):
        cands = pool.get(_family(items[int(pos)]), [])
        for k in rng.permutation(len(cands))[:80]:
            trial = list(items)
            trial[int(pos)] = cands[int(k)]
            if rule(trial):
                return trial
    return None


def _break(rng, outfit: list, pool: dict[str, list]) -> list | None:
    """A broken variant of a compatible outfit (one deliberate fault)."""
    kind = BREAKS[int(rng.integers(len(BREAKS)))]
    if kind == "missing shoes":
        return [i for i in outfit if _family(i) != "shoes"]
    if kind in ("two bottoms", "one-piece with separates"):
        fam = "bottom" if kind == "two bottoms" else (
            "full" if any(_family(i) == "bottom" for i in outfit) else "bottom")
        extra = [c for c in pool.get(fam, []) if c not in outfit]
        return [*outfit, extra[int(rng.integers(len(extra)))]] if extra else None
    return _swap_for(rng, outfit, pool, RULES[kind])


def make_outfits(items: Sequence[dict], rng, n_outfits: int) -> list[dict]:
    """About half compatible and half broken outfits, each from the items of one split."""
    by_split: dict[str, dict[str, list]] = {}
    for item in items:
        by_split.setdefault(item["split"], {}).setdefault(_family(item), []).append(item)
    out: list[dict] = []
    seen: set[frozenset] = set()
    for split, pool in sorted(by_split.items()):
        share = sum(len(v) for v in pool.values()) / max(len(items), 1)
        want = max(2, round(n_outfits * share))
        for n in range(want * 6):
            if len([o for o in out if o["split"] == split]) >= want:
                break
            good = _compose(rng, pool)
            if good is None:
                continue
            outfit = good if n % 2 == 0 else _break(rng, good, pool)
            key = frozenset(i["sku"] for i in outfit or [])
            if not outfit or key in seen:
                continue
            faults = violations(outfit)
            if (n % 2 == 1) != bool(faults):
                continue
            seen.add(key)
            out.append({
                "outfit_id": f"O{len(out):05d}", "items": [i["sku"] for i in outfit],
                "style": style_of(outfit), "compatible": not faults,
                "rule": "; ".join(faults) if faults else describe(outfit), "split": split,
            })
    return out
