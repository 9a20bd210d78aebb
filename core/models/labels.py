"""Label spaces: catalog categories and colours, and how real-photo classes map onto them."""

from __future__ import annotations

from core.demo.draws import DETAIL_VOCAB, detail_labels
from core.demo.render import style_vector
from core.taxonomy import (
    ATTRIBUTES,
    CATEGORIES,
    COLORS,
    FITS,
    LENGTHS,
    PATTERNS,
    SEASONS,
    SLEEVES,
)

CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)
COLOR_NAMES: tuple[str, ...] = tuple(COLORS)

# A real-photo class (clothing-small style folder name) covers one or more catalog categories:
# a photo of "pants" may be trousers or jeans. Training uses the group as a partial label
# (the loss is -log of the group's total probability); evaluation sums the group's probability.
REAL_CLASS_GROUPS: dict[str, tuple[str, ...]] = {
    "dress": ("dress",),
    "hat": ("hat",),
    "longsleeve": ("sweater", "hoodie", "top"),
    "outwear": ("jacket", "coat", "blazer", "cardigan"),
    "pants": ("trousers", "jeans"),
    "shirt": ("shirt",),
    "shoes": ("sneakers", "boots", "heels", "sandals"),
    "shorts": ("shorts",),
    "skirt": ("skirt",),
    "t-shirt": ("tee", "tank"),
}
# Other spellings of the same classes in common folder layouts.
CLASS_ALIASES: dict[str, str] = {
    "tshirt": "t-shirt", "t_shirt": "t-shirt", "tee": "t-shirt", "top": "longsleeve",
    "long_sleeve": "longsleeve", "long-sleeve": "longsleeve", "outerwear": "outwear",
    "trousers": "pants", "jeans": "pants", "shoe": "shoes", "hats": "hat", "dresses": "dress",
    "skirts": "skirt",
}

ATTR_VOCAB: dict[str, tuple[str, ...]] = {
    "color": COLOR_NAMES, "pattern": PATTERNS, "season": SEASONS, "sleeve": SLEEVES,
    "length": LENGTHS, "fit": FITS,
}
ATTR_DIM = sum(len(v) for v in ATTR_VOCAB.values())
# Attributes the renderer draws and an image-side head learns to predict (colour has its own
# head; season is not drawn).
HEAD_ATTRS: tuple[str, ...] = ("pattern", "sleeve", "length", "fit")
assert tuple(ATTR_VOCAB) == ATTRIBUTES
# The renderer's discrete shape draws (neckline, waistband, sole, straps, bag, hat) that detail
# heads learn to read from pixels; renders only (see ``detail_rows``).
DETAIL_NAMES: tuple[str, ...] = tuple(DETAIL_VOCAB)
assert not set(DETAIL_NAMES) & set(ATTR_VOCAB)


def head_sizes(names) -> dict[str, int]:
    """Number of values of each named attribute or detail (the heads' output sizes)."""
    return {name: len(ATTR_VOCAB.get(name) or DETAIL_VOCAB[name]) for name in names}


def real_group(class_name: str) -> tuple[str, ...] | None:
    """Catalog categories a folder class stands for (None when it cannot be mapped)."""
    key = class_name.strip().lower()
    if key in CATEGORIES:
        return (key,)
    key = CLASS_ALIASES.get(key, key)
    return REAL_CLASS_GROUPS.get(key)


def group_matrix(class_names: list[str]):
    """Float tensor (n_classes x n_categories): 1 where a category belongs to a class."""
    import torch

    mat = torch.zeros(len(class_names), len(CATEGORY_NAMES))
    for i, name in enumerate(class_names):
        group = real_group(name)
        if group is None:
            raise KeyError(name)
        for cat in group:
            mat[i, CATEGORY_NAMES.index(cat)] = 1.0
    return mat


def attr_onehot(attrs: dict) -> list[float]:
    """Concatenated one-hot of the known attributes (all zeros for unknown values)."""
    out: list[float] = []
    for key, vocab in ATTR_VOCAB.items():
        vec = [0.0] * len(vocab)
        value = attrs.get(key)
        if value in vocab:
            vec[vocab.index(value)] = 1.0
        out.extend(vec)
    return out


def attr_targets(onehot, names: tuple[str, ...] = HEAD_ATTRS) -> dict:
    """Per-attribute class indices (-1 when unknown) from ``attr_onehot`` rows (a tensor)."""
    out, start = {}, 0
    for key, vocab in ATTR_VOCAB.items():
        part = onehot[:, start:start + len(vocab)]
        start += len(vocab)
        if key in names:
            out[key] = part.argmax(1).masked_fill(part.sum(1) < 0.5, -1)
    return out


def detail_row(record: dict) -> list[int]:
    """Index of each ``DETAIL_NAMES`` value of a demo item record (-1 where it has none)."""
    cat = record["category"]
    found = detail_labels(cat, CATEGORIES[cat].family, record.get("attrs", {}),
                          style_vector(record))
    return [DETAIL_VOCAB[name].index(found[name]) if name in found else -1
            for name in DETAIL_NAMES]
