"""The discrete shape draws of a garment: which neckline, waistband, sole, straps, bag or hat.

Each is read from the item's style vector (``render.style_vector``: stable for the product,
the same in every picture of it). The drawers draw what these functions return, and
``render.look_alike_key`` lists them, so the key cannot drift from the drawing.
"""

from __future__ import annotations

FIXED_NECKLINES = {"tee": "crew", "tank": "scoop", "hoodie": "crew"}


def top_neckline(cat: str, attrs: dict, sv) -> str | None:
    """The neckline of a top (None for a shirt, which gets a collar instead)."""
    if cat == "shirt":
        return None
    if cat in FIXED_NECKLINES:
        return FIXED_NECKLINES[cat]
    kinds = ("crew", "v", "scoop") if attrs.get("sleeve") == "sleeveless" else (
        "crew", "v", "scoop", "boat")
    return kinds[int(sv[3] * len(kinds))]


def full_neckline(attrs: dict, sv) -> str:
    """The neckline of a dress, jumpsuit or romper."""
    kinds = ("v", "scoop", "crew") if attrs.get("sleeve") == "sleeveless" else (
        "v", "scoop", "crew", "boat")
    return kinds[int(sv[3] * len(kinds))]


def waist_band(sv) -> bool:
    """A dress, jumpsuit or romper with a waistband (else a seam line)."""
    return bool(sv[4] < 0.4)


def sneaker_sole(sv) -> int:
    """Index of the sneaker's sole colour in ``shapes_acc.SOLES``."""
    return int(sv[5] * 3) if sv[5] < 0.9 else 0


def sandal_draws(sv) -> tuple[int, bool]:
    """(index of the footbed edge colour in ``SOLES``, one cross strap rather than a V)."""
    return (2 if sv[5] < 0.5 else 1), bool(sv[7] < 0.5)


def bag_draws(sv) -> tuple[str, int | None]:
    """(bag kind, index of its hardware colour in ``HARDWARE``; None: a tote shows none)."""
    kind = ("tote", "handbag", "crossbody", "backpack")[int(sv[6] * 4)]
    return kind, (None if kind == "tote" else int(sv[7] * 2))


def hat_draws(sv) -> tuple[str, bool]:
    """(hat kind, a pompom on top: only beanies have one)."""
    kind = ("beanie", "cap", "fedora", "sunhat")[int(sv[6] * 4)]
    return kind, bool(kind == "beanie" and sv[7] < 0.5)


def discrete_draws(cat: str, family: str, attrs: dict, sv) -> tuple:
    """Every discrete shape draw of an item's drawing, as a key (empty where there are none:
    outerwear, bottoms, boots and heels vary only in continuous widths)."""
    return tuple(detail_labels(cat, family, attrs, sv).values())


# The discrete draws as named label spaces, for image-side heads that learn to read them
# (``detail_labels``); each name's values are listed once here.
DETAIL_VOCAB: dict[str, tuple[str, ...]] = {
    "neckline": ("crew", "v", "scoop", "boat"),
    "waistband": ("seam", "band"),
    "sole": ("white", "black", "tan"),
    "sandal": ("black-v", "black-cross", "tan-v", "tan-cross"),
    "bag": ("tote", "handbag-gold", "handbag-silver", "crossbody-gold", "crossbody-silver",
            "backpack-gold", "backpack-silver"),
    "hat": ("beanie", "beanie-pompom", "cap", "fedora", "sunhat"),
}
_SOLE_NAMES = DETAIL_VOCAB["sole"]
_HARDWARE_NAMES = ("gold", "silver")


def detail_labels(cat: str, family: str, attrs: dict, sv) -> dict[str, str]:
    """The item's discrete draws by ``DETAIL_VOCAB`` name (names it does not have are absent:
    a shirt has a collar, not a neckline; outerwear, bottoms, boots and heels have none)."""
    out: dict[str, str] = {}
    if family == "top":
        neck = top_neckline(cat, attrs, sv)
        if neck is not None:
            out["neckline"] = neck
    elif family == "full":
        out["neckline"] = full_neckline(attrs, sv)
        out["waistband"] = "band" if waist_band(sv) else "seam"
    elif cat == "sneakers":
        out["sole"] = _SOLE_NAMES[sneaker_sole(sv)]
    elif cat == "sandals":
        edge, cross = sandal_draws(sv)
        out["sandal"] = f"{_SOLE_NAMES[edge]}-{'cross' if cross else 'v'}"
    elif family == "bag":
        kind, hardware = bag_draws(sv)
        out["bag"] = kind if hardware is None else f"{kind}-{_HARDWARE_NAMES[hardware]}"
    elif family == "hat":
        kind, pompom = hat_draws(sv)
        out["hat"] = f"{kind}-pompom" if pompom else kind
    return out
