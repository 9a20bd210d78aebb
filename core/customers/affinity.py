"""Category affinity: how related two garment categories are, from the taxonomy's families.

A group-based category similarity (categories in the same group are related). The groups are
the garment families of :data:`core.taxonomy.CATEGORIES` and the pairs of families worn
together in one outfit (:data:`core.search.recommend.WEARS_WITH`): the same category is 1, another
category of the same family (a tee after a hoodie) is high, a family worn with it (jeans
after a tee) is mid, and one that is not (a dress after a skirt) is low but not zero, so the
other parts of the score can still lift it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.search.recommend import WEARS_WITH
from core.taxonomy import family_of

SAME_CATEGORY = 1.0
SAME_FAMILY = 0.7
WORN_TOGETHER = 0.4
UNRELATED = 0.1


def category_affinity(a: str, b: str) -> float:
    """Affinity of two categories in [UNRELATED, 1]; symmetric, 1 on the diagonal."""
    if a == b:
        return SAME_CATEGORY
    fa, fb = family_of(a), family_of(b)
    if fa is None or fb is None:
        return UNRELATED
    if fa == fb:
        return SAME_FAMILY
    if fb in WEARS_WITH.get(fa, ()) or fa in WEARS_WITH.get(fb, ()):
        return WORN_TOGETHER
    return UNRELATED


def affinity_matrix(categories: Sequence[str]) -> np.ndarray:
    """The len × len affinity matrix of a list of categories (float32)."""
    cats = list(categories)
    return np.array([[category_affinity(a, b) for b in cats] for a in cats], dtype=np.float32)
