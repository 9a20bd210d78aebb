"""Top-k of a score vector without a full sort (numpy only: light for the CLI and services
that do not load torch)."""

from __future__ import annotations

import numpy as np


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best finite scores of a vector, best first, ties by index (the same
    result as a stable full sort, from a partition and a sort of the k kept)."""
    finite = np.flatnonzero(np.isfinite(scores))
    vals = scores[finite]
    if 0 < k < len(finite):
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]  # the k-th largest
        keep = vals >= kth  # every tie of the k-th is kept, then ordered by index
        finite, vals = finite[keep], vals[keep]
    return finite[np.lexsort((finite, -vals))[:max(k, 0)]]
