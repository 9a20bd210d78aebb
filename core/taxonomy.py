"""The product's fashion taxonomy.

Categories (with their family and DeepFashion-MultiModal parsing label), named colours (RGB,
hue, neutral flag, lighter/darker neighbours), patterns and the ordered attribute vocabularies
(sleeve, length, fit, season), which values are plausible for which category (with how common
each is), colour relations and the parsing-label mask decoding. The demo generator samples
from these tables; nothing here is specific to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NA = "n/a"

# DeepFashion-MultiModal (Text2Human) human-parsing labels, in label-index order, with the
# RGB colours its tools use to draw them. Index 0 is the background.
SEGMENT_LABELS: tuple[str, ...] = (
    "background", "top", "outer", "skirt", "dress", "pants", "leggings", "headwear",
    "eyeglass", "neckwear", "belt", "footwear", "bag", "hair", "face", "skin", "ring",
    "wrist wearing", "socks", "gloves", "necklace", "rompers", "earrings", "tie",
)
SEGMENT_COLORS: dict[str, tuple[int, int, int]] = dict(zip(SEGMENT_LABELS, [
    (0, 0, 0), (255, 250, 250), (220, 220, 220), (250, 235, 215), (255, 250, 205),
    (211, 211, 211), (70, 130, 180), (127, 255, 212), (0, 100, 0), (50, 205, 50),
    (255, 255, 0), (245, 222, 179), (255, 140, 0), (255, 0, 0), (16, 78, 139),
    (144, 238, 144), (50, 205, 174), (50, 155, 250), (160, 140, 88), (213, 140, 88),
    (90, 140, 90), (185, 210, 205), (130, 165, 180), (225, 141, 151),
], strict=True))
SEGMENT_INDEX: dict[str, int] = {name: i for i, name in enumerate(SEGMENT_LABELS)}
# Labels that are not garments: masking them out leaves only the clothes.
BODY_LABELS = ("hair", "face", "skin")

FAMILIES = ("top", "outer", "full", "bottom", "shoes", "bag", "hat")
# How a family reads to a shopper ("showing dresses, jumpsuits and rompers").
FAMILY_WORDS = {"top": "tops", "outer": "coats, jackets, blazers and cardigans",
                "full": "dresses, jumpsuits and rompers",
                "bottom": "trousers, jeans, shorts and skirts", "shoes": "shoes", "bag": "bags",
                "hat": "hats"}


@dataclass(frozen=True)
class Category:
    name: str
    family: str
    segment: str  # DeepFashion-MultiModal label the garment is drawn with
    formality: int  # 0 sporty .. 4 formal
    gender: tuple[str, ...]  # plausible genders


CATEGORIES: dict[str, Category] = {c.name: c for c in [
    Category("tee", "top", "top", 1, ("women", "men", "unisex")),
    Category("tank", "top", "top", 1, ("women", "men", "unisex")),
    Category("top", "top", "top", 2, ("women",)),
    Category("shirt", "top", "top", 3, ("women", "men")),
    Category("sweater", "top", "top", 2, ("women", "men", "unisex")),
    Category("hoodie", "top", "top", 0, ("women", "men", "unisex")),
    Category("blazer", "outer", "outer", 4, ("women", "men")),
    Category("cardigan", "outer", "outer", 2, ("women", "men")),
    Category("jacket", "outer", "outer", 2, ("women", "men", "unisex")),
    Category("coat", "outer", "outer", 3, ("women", "men")),
    Category("dress", "full", "dress", 3, ("women",)),
    Category("jumpsuit", "full", "rompers", 3, ("women",)),
    Category("romper", "full", "rompers", 1, ("women",)),
    Category("trousers", "bottom", "pants", 3, ("women", "men")),
    Category("jeans", "bottom", "pants", 1, ("women", "men", "unisex")),
    Category("shorts", "bottom", "pants", 0, ("women", "men", "unisex")),
    Category("skirt", "bottom", "skirt", 3, ("women",)),
    Category("sneakers", "shoes", "footwear", 0, ("women", "men", "unisex")),
    Category("boots", "shoes", "footwear", 2, ("women", "men")),
    Category("heels", "shoes", "footwear", 4, ("women",)),
    Category("sandals", "shoes", "footwear", 1, ("women", "men")),
    Category("bag", "bag", "bag", 2, ("women", "men", "unisex")),
    Category("hat", "hat", "headwear", 1, ("women", "men", "unisex")),
]}
# The eleven categories of the category-label CSV format (``image_name,category_label``), in
# the order of its integer labels 0..10.
LABEL_CSV_CATEGORIES = (
    "blazer", "cardigan", "hoodie", "jacket", "sweater", "tank", "tee", "top", "dress",
    "jumpsuit", "romper",
)


@dataclass(frozen=True)
class Colour:
    name: str
    rgb: tuple[int, int, int]
    # Angle on the painter's (red-yellow-blue) colour wheel stylists use, in degrees:
    # red 0, orange 60, yellow 120, green 180, blue 240, violet 300. Complements sit 180°
    # apart (red/green, blue/orange, yellow/violet). Meaningless for achromatic neutrals.
    hue: float
    neutral: bool
    lighter: str | None = None  # the next lighter shade of the same hue, if any
    darker: str | None = None


COLORS: dict[str, Colour] = {c.name: c for c in [
    Colour("black", (28, 28, 31), 0, True, lighter="grey"),
    Colour("grey", (132, 133, 137), 0, True, lighter="white", darker="black"),
    Colour("white", (242, 241, 236), 0, True, darker="grey"),
    Colour("beige", (214, 193, 158), 80, True, darker="brown"),
    Colour("brown", (112, 74, 46), 45, True, lighter="beige"),
    Colour("navy", (30, 42, 92), 245, True, lighter="blue"),
    Colour("blue", (42, 92, 196), 240, False, lighter="light blue", darker="navy"),
    Colour("light blue", (142, 190, 232), 235, False, darker="blue"),
    Colour("burgundy", (112, 22, 44), 350, False, lighter="red"),
    Colour("red", (200, 32, 42), 0, False, lighter="pink", darker="burgundy"),
    Colour("pink", (238, 150, 180), 345, False, darker="red"),
    Colour("dark green", (24, 82, 52), 185, False, lighter="green"),
    Colour("green", (48, 146, 76), 180, False, lighter="mint", darker="dark green"),
    Colour("mint", (158, 222, 190), 175, False, darker="green"),
    Colour("purple", (104, 56, 156), 300, False, lighter="lavender"),
    Colour("lavender", (190, 170, 226), 295, False, darker="purple"),
    Colour("orange", (234, 118, 34), 60, False),
    Colour("yellow", (240, 204, 52), 120, False),
    Colour("olive", (108, 110, 52), 140, True),
]}

PATTERNS = ("solid", "striped", "checked", "dotted", "floral", "denim", "graphic")
SLEEVES = ("sleeveless", "short", "three-quarter", "long")  # shortest first
# Garment lengths, shortest first. Only compared between garments of the same family.
LENGTHS = ("cropped", "mini", "ankle", "hip", "knee", "midi", "maxi", "full")
FITS = ("slim", "regular", "loose")  # most fitted first
SEASONS = ("spring", "summer", "autumn", "winter")
GENDERS = ("women", "men", "unisex")
UNISEX = "unisex"
UNKNOWN_GENDER = "unknown"  # a shopper whose gender is not known (e.g. an imported customer)


def wearable_genders(gender: str | None) -> set[str | None] | None:
    """Item genders a person of ``gender`` shops for: their own, unisex and unknown (None and
    ""); None when ``gender`` is unknown (None, "" or UNKNOWN_GENDER: everything)."""
    return {gender, UNISEX, None, ""} if gender and gender != UNKNOWN_GENDER else None
ATTRIBUTES = ("color", "pattern", "season", "sleeve", "length", "fit")

# Plausible values per category, each weighted by how common it is.
_W = dict[str, float]
_TOP_PATTERNS: _W = {"solid": 5, "striped": 2, "dotted": 1, "floral": 1, "graphic": 1}
SLEEVE_OPTIONS: dict[str, _W] = {
    "tee": {"short": 8, "long": 2}, "tank": {"sleeveless": 1},
    "top": {"sleeveless": 3, "short": 3, "three-quarter": 2, "long": 2},
    "shirt": {"short": 3, "three-quarter": 1, "long": 6},
    "sweater": {"long": 8, "three-quarter": 2}, "hoodie": {"long": 1},
    "blazer": {"long": 8, "three-quarter": 2}, "cardigan": {"long": 7, "three-quarter": 2,
                                                            "short": 1},
    "jacket": {"long": 1}, "coat": {"long": 1},
    "dress": {"sleeveless": 4, "short": 3, "three-quarter": 1, "long": 2},
    "jumpsuit": {"sleeveless": 5, "short": 3, "long": 2}, "romper": {"sleeveless": 6, "short": 4},
}
LENGTH_OPTIONS: dict[str, _W] = {
    "tee": {"hip": 8, "cropped": 2}, "tank": {"hip": 7, "cropped": 3},
    "top": {"hip": 6, "cropped": 4}, "shirt": {"hip": 1}, "sweater": {"hip": 8, "cropped": 2},
    "hoodie": {"hip": 8, "cropped": 2}, "blazer": {"hip": 1}, "cardigan": {"hip": 7, "cropped": 3},
    "jacket": {"hip": 8, "cropped": 2}, "coat": {"knee": 7, "midi": 3},
    "dress": {"mini": 3, "knee": 4, "midi": 3, "maxi": 2}, "jumpsuit": {"full": 7, "cropped": 3},
    "romper": {"mini": 1}, "trousers": {"full": 7, "cropped": 3},
    "jeans": {"full": 8, "cropped": 2},
    "shorts": {"mini": 5, "knee": 5}, "skirt": {"mini": 3, "knee": 3, "midi": 3, "maxi": 2},
    "boots": {"ankle": 6, "knee": 4},
}
FIT_OPTIONS: _W = {"slim": 3, "regular": 5, "loose": 3}
PATTERN_OPTIONS: dict[str, _W] = {
    "tee": {**_TOP_PATTERNS, "graphic": 3}, "tank": _TOP_PATTERNS,
    "top": {**_TOP_PATTERNS, "floral": 2}, "shirt": {"solid": 5, "striped": 3, "checked": 3,
                                                     "denim": 1, "dotted": 1},
    "sweater": {"solid": 6, "striped": 2, "checked": 1, "graphic": 1},
    "hoodie": {"solid": 6, "graphic": 3, "striped": 1},
    "blazer": {"solid": 7, "checked": 3, "striped": 1}, "cardigan": {"solid": 7, "striped": 2,
                                                                     "checked": 1},
    "jacket": {"solid": 5, "denim": 4, "checked": 1}, "coat": {"solid": 7, "checked": 3},
    "dress": {"solid": 5, "floral": 3, "dotted": 2, "striped": 2, "checked": 1, "denim": 1},
    "jumpsuit": {"solid": 6, "floral": 1, "striped": 1, "denim": 1},
    "romper": {"solid": 4, "floral": 3, "dotted": 2, "striped": 1},
    "trousers": {"solid": 8, "checked": 2, "striped": 1}, "jeans": {"denim": 17, "solid": 3},
    "shorts": {"solid": 4, "denim": 4, "checked": 1, "striped": 1, "floral": 1},
    "skirt": {"solid": 5, "floral": 2, "checked": 2, "dotted": 1, "denim": 2, "striped": 1},
    "sneakers": {"solid": 8, "graphic": 2}, "boots": {"solid": 1}, "heels": {"solid": 1},
    "sandals": {"solid": 1}, "bag": {"solid": 7, "checked": 2, "striped": 1, "denim": 1},
    "hat": {"solid": 7, "checked": 2, "striped": 1, "denim": 1},
}
DENIM_COLORS: _W = {"blue": 5, "light blue": 4, "navy": 3, "black": 2, "grey": 1, "white": 1}
SEASON_OPTIONS: dict[str, _W] = {
    "tank": {"summer": 3, "spring": 1}, "shorts": {"summer": 3, "spring": 1},
    "sandals": {"summer": 3, "spring": 1}, "romper": {"summer": 3, "spring": 1},
    "coat": {"winter": 3, "autumn": 2}, "boots": {"winter": 2, "autumn": 2},
    "sweater": {"winter": 2, "autumn": 2, "spring": 1}, "hoodie": {"autumn": 2, "winter": 1,
                                                                   "spring": 1},
    "cardigan": {"autumn": 2, "spring": 2, "winter": 1},
    "jacket": {"autumn": 2, "spring": 2, "winter": 1},
}
ALL_SEASONS: _W = {"spring": 1, "summer": 1, "autumn": 1, "winter": 1}
# Colours that lean to a season (used to bias sampling, never to forbid).
SEASON_COLORS: dict[str, tuple[str, ...]] = {
    "summer": ("white", "light blue", "yellow", "pink", "mint", "orange", "beige"),
    "winter": ("black", "navy", "grey", "burgundy", "dark green", "brown"),
    "autumn": ("brown", "olive", "burgundy", "orange", "beige", "dark green"),
    "spring": ("lavender", "mint", "pink", "light blue", "green", "white"),
}
NO_FIT = frozenset({"sneakers", "boots", "heels", "sandals", "bag", "hat"})


def family_of(category: str | None) -> str | None:
    """The garment family (top, bottom, full, outer, shoes, bag, hat) of a category; None for
    a category outside the taxonomy (an imported catalog's own labels)."""
    info = CATEGORIES.get(category or "")
    return info.family if info else None


def segment_of(category: str) -> str:
    """The DeepFashion-MultiModal parsing label a category is drawn with."""
    return CATEGORIES[category].segment


def allowed_values(category: str, attr: str) -> tuple[str, ...]:
    """Plausible values of one attribute for a category (``("n/a",)`` when not applicable)."""
    if attr == "sleeve":
        return tuple(SLEEVE_OPTIONS.get(category, {NA: 1}))
    if attr == "length":
        return tuple(LENGTH_OPTIONS.get(category, {NA: 1}))
    if attr == "fit":
        return (NA,) if category in NO_FIT else FITS
    if attr == "pattern":
        return tuple(PATTERN_OPTIONS[category])
    if attr == "season":
        return tuple(SEASON_OPTIONS.get(category, ALL_SEASONS))
    if attr == "color":
        return tuple(COLORS)
    raise KeyError(f"unknown attribute {attr!r}")


def applies(attr: str, category: str | None = None, family: str | None = None) -> bool | None:
    """Whether an attribute can describe a category (sleeves: not bags, shoes or trousers;
    length: not bags, hats or flat shoes; fit: not shoes, bags or hats), or, for a family, any
    of its categories; None when neither is in the taxonomy."""
    if category in CATEGORIES:
        return allowed_values(category, attr) != (NA,)
    cats = [c for c, info in CATEGORIES.items() if info.family == family]
    if cats:
        return any(allowed_values(c, attr) != (NA,) for c in cats)
    return None


def plural(name: str) -> str:
    """A garment name's plural ("dresses", "jeans", "bags")."""
    return name if name.endswith("s") and not name.endswith("ss") else \
        name + ("es" if name.endswith(("ss", "sh", "ch")) else "s")


def plausibility_errors(category: str, attrs: dict) -> list[str]:
    """Reasons an attribute set is implausible for a category (empty when plausible)."""
    if category not in CATEGORIES:
        return [f"unknown category {category!r}"]
    errors = [
        f"{attr}={attrs.get(attr)!r} is not plausible for {category}"
        for attr in ATTRIBUTES if attrs.get(attr) not in allowed_values(category, attr)
    ]
    if attrs.get("pattern") == "denim" and attrs.get("color") not in DENIM_COLORS:
        errors.append(f"denim cannot be {attrs.get('color')}")
    return errors


def rank(attr: str, value: str) -> int | None:
    """Position of a value on its ordered scale (sleeve, length, fit), None when unordered."""
    scale = {"sleeve": SLEEVES, "length": LENGTHS, "fit": FITS}.get(attr)
    return scale.index(value) if scale and value in scale else None


def luminance(name: str) -> float:
    """Relative luminance (0..1) of a named colour."""
    r, g, b = (c / 255.0 for c in COLORS[name].rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def shade_relation(src: str, dst: str) -> str | None:
    """'lighter' / 'darker' when dst is a lighter/darker shade of src's hue, else None."""
    for direction in ("lighter", "darker"):
        seen, cur = set(), src
        while cur and cur not in seen:
            seen.add(cur)
            cur = getattr(COLORS[cur], direction)
            if cur == dst:
                return direction
    return None


def hue_distance(a: str, b: str) -> float:
    d = abs(COLORS[a].hue - COLORS[b].hue) % 360
    return min(d, 360 - d)


def colour_relation(a: str, b: str) -> str:
    """How two colours coordinate: same, neutral, analogous, complementary or clash."""
    if a == b:
        return "same"
    if COLORS[a].neutral or COLORS[b].neutral:
        return "neutral"
    d = hue_distance(a, b)
    if d <= 60:
        return "analogous"
    if d >= 150:
        return "complementary"
    return "clash"


def nearest_colour(rgb) -> str:
    """Name of the named colour closest to an RGB triple (CIEDE2000 in CIELAB)."""
    from core.tagging.colour import nearest_palette  # imports this module: import when called

    return nearest_palette(rgb)


def labels_from_mask(mask) -> np.ndarray:
    """Label-index array (H×W uint8) from a colour-coded mask (PIL RGB/P/L image or array).

    RGB pixels are matched to the nearest SEGMENT_COLORS entry; 'L'/'P' masks are read as
    label indices directly.
    """
    arr = np.asarray(mask)
    if arr.ndim == 2:
        return arr.astype(np.uint8)
    palette = np.array(list(SEGMENT_COLORS.values()), dtype=np.int32)
    flat = arr[..., :3].reshape(-1, 3).astype(np.int32)
    keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    pkeys = (palette[:, 0] << 16) | (palette[:, 1] << 8) | palette[:, 2]
    order = np.argsort(pkeys)
    pos = np.clip(np.searchsorted(pkeys[order], keys), 0, len(pkeys) - 1)
    exact = pkeys[order][pos] == keys
    out = order[pos]
    if not exact.all():
        miss = ~exact
        d = ((flat[miss][:, None, :] - palette[None]) ** 2).sum(axis=2)
        out[miss] = d.argmin(axis=1)
    return out.reshape(arr.shape[:2]).astype(np.uint8)


def garment_mask(mask, exclude: tuple[str, ...] = ("background", *BODY_LABELS)) -> np.ndarray:
    """Boolean H×W array of garment pixels (everything but background, hair, face, skin)."""
    labels = labels_from_mask(mask)
    bad = np.array([SEGMENT_INDEX[name] for name in exclude])
    return ~np.isin(labels, bad)
