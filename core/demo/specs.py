"""Sampling the demo catalog: product lines of plausible items with ground-truth attributes.

A product line is a base item plus a few siblings that differ from it in one or two
attributes (another colourway, a longer sleeve, the same cut as a skirt instead of shorts…),
like a real retailer's range. Lines are what make reference→target pairs plentiful, and a
whole line goes to one split so that no near-duplicate of a test item is seen in training.
"""

from __future__ import annotations

import numpy as np

from core.demo.stores import STORE_IDS
from core.taxonomy import (
    ALL_SEASONS,
    CATEGORIES,
    COLORS,
    DENIM_COLORS,
    FIT_OPTIONS,
    LENGTH_OPTIONS,
    NO_FIT,
    PATTERN_OPTIONS,
    SEASON_COLORS,
    SEASON_OPTIONS,
    SLEEVE_OPTIONS,
    allowed_values,
    plausibility_errors,
)

CHANGE_ATTRS = ("category", "color", "pattern", "sleeve", "length", "fit")
SPLITS = {"train": 0.70, "val": 0.15, "test": 0.15}
BRANDS = {  # invented brand names with their price multiplier
    "Saffron Lane": 0.8, "Northbank": 0.9, "Loomwell": 1.0, "Cobalt Row": 1.1,
    "Tessellate": 1.2, "Fjordline": 1.3, "Kintsu": 1.5, "Petrichor": 1.6,
    "Atelier Novo": 1.8, "Marlowe & Finch": 2.2,
}
PRICE_RANGE = {
    "tee": (12, 35), "tank": (10, 28), "top": (18, 55), "shirt": (25, 80), "sweater": (35, 110),
    "hoodie": (30, 85), "blazer": (80, 260), "cardigan": (35, 120), "jacket": (60, 220),
    "coat": (110, 380), "dress": (35, 180), "jumpsuit": (45, 160), "romper": (28, 90),
    "trousers": (35, 120), "jeans": (40, 130), "shorts": (18, 60), "skirt": (25, 95),
    "sneakers": (45, 150), "boots": (80, 280), "heels": (60, 240), "sandals": (25, 110),
    "bag": (30, 320), "hat": (15, 70),
}
LINE_SIZES = {1: 0.38, 2: 0.30, 3: 0.20, 4: 0.12}
PLURAL = frozenset({"jeans", "trousers", "shorts", "sneakers", "boots", "heels", "sandals"})


def option_weights(category: str, attr: str) -> dict[str, float]:
    """Sampling weights of the plausible values (uniform where no preference is known)."""
    table = {"sleeve": SLEEVE_OPTIONS, "length": LENGTH_OPTIONS, "pattern": PATTERN_OPTIONS,
             "season": SEASON_OPTIONS}.get(attr)
    if attr == "fit" and category not in NO_FIT:
        return dict(FIT_OPTIONS)
    if table is not None and category in table:
        return dict(table[category])
    if attr == "season":
        return dict(ALL_SEASONS)
    return dict.fromkeys(allowed_values(category, attr), 1.0)


def choose(rng, weights: dict) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def colour_weights(season: str, pattern: str) -> dict[str, float]:
    if pattern == "denim":
        return dict(DENIM_COLORS)
    favoured = set(SEASON_COLORS.get(season, ()))
    return {c: (2.5 if c in favoured else 1.0) * (1.6 if COLORS[c].neutral else 1.0)
            for c in COLORS}


def sample_attrs(rng, category: str) -> dict:
    season = choose(rng, option_weights(category, "season"))
    pattern = choose(rng, option_weights(category, "pattern"))
    return {
        "color": choose(rng, colour_weights(season, pattern)),
        "pattern": pattern,
        "season": season,
        "sleeve": choose(rng, option_weights(category, "sleeve")),
        "length": choose(rng, option_weights(category, "length")),
        "fit": choose(rng, option_weights(category, "fit")),
    }


def changes_between(ref: dict, tgt: dict) -> dict[str, list[str]]:
    """{attr: [from, to]} over category and the visible attributes that differ."""
    out = {}
    for attr in CHANGE_ATTRS:
        a = ref["category"] if attr == "category" else ref["attrs"][attr]
        b = tgt["category"] if attr == "category" else tgt["attrs"][attr]
        if a != b:
            out[attr] = [a, b]
    return out


def _other(rng, weights: dict, current: str) -> str | None:
    options = {k: w for k, w in weights.items() if k != current}
    return choose(rng, options) if options else None


def _mutate_one(rng, spec: dict, attr: str) -> None:
    cat, attrs = spec["category"], spec["attrs"]
    if attr == "category":
        family = CATEGORIES[cat].family
        options = {c: 1.0 for c, info in CATEGORIES.items()
                   if info.family == family and c != cat and spec["gender"] in info.gender}
        if not options:
            return
        spec["category"] = new = choose(rng, options)
        for a in ("pattern", "sleeve", "length", "fit", "season"):
            if attrs[a] not in option_weights(new, a):
                attrs[a] = choose(rng, option_weights(new, a))
    elif attr == "color":
        c = COLORS[attrs["color"]]
        shades = [s for s in (c.lighter, c.darker) if s]
        if attrs["pattern"] == "denim":
            shades = [s for s in shades if s in DENIM_COLORS]
        if shades and rng.random() < 0.5:
            attrs["color"] = shades[int(rng.integers(len(shades)))]
        else:
            attrs["color"] = _other(rng, colour_weights(attrs["season"], attrs["pattern"]),
                                    attrs["color"]) or attrs["color"]
    else:
        new = _other(rng, option_weights(cat, attr), attrs[attr])
        if new is not None:
            attrs[attr] = new
    if attrs["pattern"] == "denim" and attrs["color"] not in DENIM_COLORS:
        attrs["color"] = choose(rng, DENIM_COLORS)


def sibling(rng, base: dict, tries: int = 12) -> dict | None:
    """A copy of ``base`` with one or two visible attributes changed, still plausible."""
    for _ in range(tries):
        spec = {**base, "attrs": dict(base["attrs"])}
        k = 1 if rng.random() < 0.65 else 2
        attrs = rng.choice(CHANGE_ATTRS, size=k, replace=False, p=[0.1, 0.4, 0.15, 0.12, 0.12,
                                                                    0.11])
        for attr in attrs:
            _mutate_one(rng, spec, str(attr))
        n = len(changes_between(base, spec))
        if 1 <= n <= 2 and not plausibility_errors(spec["category"], spec["attrs"]):
            return spec
    return None


def item_name(category: str, attrs: dict) -> str:
    """A shop-style product name, e.g. 'Navy striped slim blazer'."""
    words = [attrs["color"]]
    if attrs["pattern"] != "solid":
        words.append(attrs["pattern"])
    if attrs["fit"] in ("slim", "loose"):
        words.append(attrs["fit"])
    length, sleeve = attrs["length"], attrs["sleeve"]
    if category in ("dress", "skirt") or length == "cropped":
        words.append(length)
    elif category == "boots":
        words.append("knee-high" if length == "knee" else "ankle")
    if sleeve == "sleeveless" and category in ("dress", "top", "jumpsuit", "romper"):
        words.append("sleeveless")
    elif sleeve in ("long", "three-quarter") and category in ("tee", "top", "dress"):
        words.append("long-sleeve" if sleeve == "long" else "three-quarter-sleeve")
    words.append(category)
    text = " ".join(words)
    return text[0].upper() + text[1:]


# How a variant's distinguishing attribute reads in its name ("Navy loose midi coat" beside
# "Navy loose knee-length coat"); the first attribute (in this order) that tells it apart from
# a same-named variant of its line is added before the category.
NAME_WORDS = {"length": lambda v: v if v in ("cropped", "mini", "midi", "maxi") else f"{v}-length",
              "sleeve": lambda v: v if v == "sleeveless" else f"{v}-sleeve",
              "fit": lambda v: f"{v}-fit", "pattern": str}


def line_names(members: list[dict]) -> list[str]:
    """The product names of a line's variants: ``item_name``, plus the attribute that tells
    apart variants that would otherwise share a name (a shop never lists two products under
    one name)."""
    names = [item_name(m["category"], m["attrs"]) for m in members]
    out = list(names)
    for i, m in enumerate(members):
        twins = [members[j] for j, n in enumerate(names) if n == names[i] and j != i]
        attr = next((a for a in NAME_WORDS if any(t["attrs"][a] != m["attrs"][a] for t in twins)),
                    None)
        if attr is not None:
            word = NAME_WORDS[attr](m["attrs"][attr])
            head, _, category = names[i].rpartition(" ")
            out[i] = f"{head} {word} {category}" if head else f"{word.capitalize()} {category}"
    return out


def _base(rng) -> dict:
    category = str(rng.choice(list(CATEGORIES)))
    genders = CATEGORIES[category].gender
    return {
        "category": category,
        "attrs": sample_attrs(rng, category),
        "gender": genders[int(rng.integers(len(genders)))],
        "brand": str(rng.choice(list(BRANDS))),
    }


def _price(rng, spec: dict) -> float:
    lo, hi = PRICE_RANGE[spec["category"]]
    raw = rng.uniform(lo, hi) * BRANDS[spec["brand"]]
    return float(max(5, round(raw)) - 0.01)


def _assign_splits(rng, line_sizes: list[int]) -> list[str]:
    """One split per line, filling the 70/15/15 item targets as exactly as lines allow."""
    total = sum(line_sizes)
    filled = dict.fromkeys(SPLITS, 0)
    out = [""] * len(line_sizes)
    for i in rng.permutation(len(line_sizes)):
        split = max(SPLITS, key=lambda s: SPLITS[s] * total - filled[s])
        out[int(i)] = split
        filled[split] += line_sizes[int(i)]
    return out


def sample_catalog(n_items: int, seed: int) -> list[dict]:
    """The item records (without render output) of an n-item catalog, deterministic in seed."""
    rng = np.random.default_rng([int(seed), 0xDE40])
    lines: list[list[dict]] = []
    count = 0
    while count < n_items:
        base = _base(rng)
        shape_seed = int(rng.integers(2**31))
        members = [base]
        for _ in range(choose(rng, LINE_SIZES) - 1):
            sib = sibling(rng, members[int(rng.integers(len(members)))])
            if sib is not None and all(changes_between(sib, m) for m in members):
                members.append(sib)
        members = members[: n_items - count]
        price = _price(rng, base)
        for m in members:
            m["price"] = price if m["category"] == base["category"] else _price(rng, m)
            m["render"] = {"seed": int(rng.integers(2**31)), "shape_seed": shape_seed}
        lines.append(members)
        count += len(members)
    splits = _assign_splits(rng, [len(m) for m in lines])
    items = []
    for line_no, (members, split) in enumerate(zip(lines, splits, strict=True)):
        for m, name in zip(members, line_names(members), strict=True):
            sku = f"D{len(items):06d}"
            items.append({
                "sku": sku, "image": f"images/{sku}.jpg", "mask": f"masks/{sku}.png",
                "category": m["category"], "family": CATEGORIES[m["category"]].family,
                "name": name, "attrs": m["attrs"],
                "price": m["price"], "brand": m["brand"], "gender": m["gender"],
                "store_id": STORE_IDS[int(rng.integers(len(STORE_IDS)))], "split": split,
                "line": f"L{line_no:05d}", "render": m["render"],
            })
    return items
