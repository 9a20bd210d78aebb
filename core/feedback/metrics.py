"""Retrieval metrics of composed queries: target rank, recall@k, attribute presence in top-k.

Top-k lists come from the shared :func:`core.models.metrics.nearest`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.models.metrics import nearest


def target_ranks(queries: np.ndarray, vectors: np.ndarray, targets: Sequence[int],
                 gallery: Sequence[int], exclude: Sequence[int] | None = None,
                 adjust: np.ndarray | None = None) -> np.ndarray:
    """0-based rank of each query's target among the gallery rows (cosine, best first).

    ``exclude`` (one row per query, e.g. the reference) is left out of the ranking; ties are
    broken in the target's favour. Every target must be a gallery row. ``adjust`` (queries x
    gallery) is subtracted from the scores (the rule ranking's weighted penalties).
    """
    gallery = np.asarray(gallery, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    if not np.isin(targets, gallery).all():
        raise ValueError("every target must be in the gallery")
    q = np.asarray(queries, dtype=np.float32)
    sims = q @ vectors[gallery].T
    if adjust is not None:
        sims = sims - adjust
    if exclude is not None:
        sims = np.where(gallery[None, :] == np.asarray(exclude)[:, None], -np.inf, sims)
    own = np.einsum("ij,ij->i", q, vectors[targets])
    if adjust is not None:
        col = {int(g): j for j, g in enumerate(gallery)}
        own = own - adjust[np.arange(len(q)), [col[int(t)] for t in targets]]
    better = sims > own[:, None]
    better &= gallery[None, :] != targets[:, None]
    return better.sum(axis=1)


def recall_at(ranks: np.ndarray, k: int) -> float:
    """Fraction of queries whose target is within the first k results."""
    ranks = np.asarray(ranks)
    return float((ranks < k).mean()) if len(ranks) else 0.0


def recall_summary(ranks: np.ndarray, ks: Sequence[int] = (10, 50)) -> dict[str, float]:
    """{"r10", "r50", "mean" (of the recalls), "n"}."""
    out: dict[str, float] = {f"r{k}": round(recall_at(ranks, k), 4) for k in ks}
    out["mean"] = round(float(np.mean([out[f"r{k}"] for k in ks])), 4)
    out["n"] = int(len(ranks))
    return out


def top_rows(queries: np.ndarray, vectors: np.ndarray, gallery: Sequence[int], k: int,
             exclude: Sequence[int] | None = None, adjust: np.ndarray | None = None
             ) -> np.ndarray:
    """Gallery rows of the k best results per query (``exclude``: one row per query;
    ``adjust``: queries x gallery, subtracted from the scores)."""
    gallery = np.asarray(gallery, dtype=np.int64)
    if adjust is not None:
        return gallery[_adjusted_top(queries, vectors[gallery], k, adjust,
                                     None if exclude is None else gallery[None, :]
                                     == np.asarray(exclude)[:, None])]
    mask = None
    if exclude is not None:
        mask = gallery[None, :] == np.asarray(exclude)[:, None]
    idx = nearest(np.asarray(queries, dtype=np.float32), vectors[gallery], k, mask)
    return gallery[idx]


def _adjusted_top(q: np.ndarray, matrix: np.ndarray, k: int, adjust: np.ndarray,
                  mask: np.ndarray | None) -> np.ndarray:
    scores = np.asarray(q, dtype=np.float32) @ matrix.T - adjust
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def attribute_fraction(rows: np.ndarray, values: Sequence[str | None],
                       wanted: Sequence[frozenset[str] | None]) -> np.ndarray:
    """Per query: the fraction of its result rows with an acceptable value (NaN: not asked)."""
    vals = np.asarray([v if v is not None else "" for v in values], dtype=object)
    out = np.full(len(rows), np.nan)
    for i, (r, w) in enumerate(zip(rows, wanted, strict=True)):
        if w:
            out[i] = float(np.isin(vals[r], list(w)).mean())
    return out


def attribute_hits(rows: np.ndarray, values: Sequence[str | None],
                   wanted: Sequence[frozenset[str] | None]) -> np.ndarray:
    """Per query: does any of its result rows carry an acceptable value? (None: not asked).

    ``values`` is the attribute value of every catalog row; returns a float array with NaN
    where the query asked for nothing.
    """
    vals = np.asarray([v if v is not None else "" for v in values], dtype=object)
    out = np.full(len(rows), np.nan)
    for i, (r, w) in enumerate(zip(rows, wanted, strict=True)):
        if w:
            out[i] = float(any(v in w for v in vals[r]))
    return out


def hit_rate(hits: np.ndarray) -> float | None:
    """Mean of the defined entries of ``attribute_hits`` (None when nothing was asked)."""
    hits = np.asarray(hits, dtype=float)
    defined = hits[~np.isnan(hits)]
    return round(float(defined.mean()), 4) if len(defined) else None
