"""Item popularity: initial counts, their evolution, and the trend-aware adjustment.

Popularity is a purchase count: each item starts with a long-tailed count up to P_max (a few
items are very popular, many are niche) and gains 1 per simulated purchase. The score reads it
normalised by the catalog's most popular item, ``p = count / max count`` in [0, 1].
"""

from __future__ import annotations

import numpy as np

POP_FLOOR = 1e-3  # the adjustment never reaches 0, so the other parts still order items


def initial_counts(rng: np.random.Generator, n: int, p_max: int) -> np.ndarray:
    """Long-tailed starting counts in 0..p_max: ``round(p_max * u²)`` for uniform u."""
    return np.rint(p_max * rng.random(n) ** 2).astype(np.float64)


def normalised(counts) -> np.ndarray:
    """Counts divided by the largest (all zeros when nothing was ever bought)."""
    c = np.asarray(counts, dtype=np.float64)
    top = c.max(initial=0.0)
    return c / top if top > 0 else np.zeros_like(c)


def trend_penalty(p, threshold: float, exponent: float) -> np.ndarray:
    """What a trend-seeker thinks of an item of normalised popularity ``p``.

    1 up to ``threshold`` (niche and rising items are what they look for); above it the item
    is everybody's, and the factor falls as ``((1 - p) / (1 - threshold)) ** exponent`` to 0
    for the most popular item. With the default threshold 0.15 and exponent 4, an item at half
    the top popularity keeps 0.12, one at 0.3 keeps 0.46.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    over = ((1.0 - p) / (1.0 - threshold)) ** exponent
    return np.where(p <= threshold, 1.0, over)


def popularity_adjustment(p, trendiness, threshold: float, exponent: float) -> np.ndarray:
    """The popularity part of the fused score, in [POP_FLOOR, 1].

    ``(1 - t) * p + t * trend_penalty(p)`` for a customer of trendiness t: a customer who
    follows the crowd (t = 0) likes items as much as they are popular, a trend-seeker (t = 1)
    penalises everything above ``threshold`` of the top popularity (steeper with a larger
    ``exponent``), and customers in between blend the two.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    t = np.clip(np.asarray(trendiness, dtype=np.float64), 0.0, 1.0)
    mixed = (1.0 - t) * p + t * trend_penalty(p, threshold, exponent)
    return np.clip(mixed, POP_FLOOR, 1.0)
