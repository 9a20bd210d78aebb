"""A stratified sample of a large catalog for the map: every category keeps its share.

A t-SNE of a million points takes hours and a browser cannot draw them; the map of a catalog
above ``SAMPLE_SIZE`` items shows ``SAMPLE_SIZE`` of them, drawn per category in proportion to
its size (largest remainders get the rounding), every category keeping at least one item.
The draw is deterministic for a given seed and catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.explore.params import MapParams

SAMPLE_SIZE = MapParams.sample  # 20,000


def quotas(sizes: dict[str, int], size: int) -> dict[str, int]:
    """How many rows each group gives to a sample of ``size``: proportional, largest
    remainders first, at least one per group while the sample has room for one per group."""
    total = sum(sizes.values())
    if size >= total:
        return dict(sizes)
    names = sorted(sizes)
    exact = {g: size * sizes[g] / total for g in names}
    out = {g: int(exact[g]) for g in names}
    floor = 1 if size >= len([g for g in names if sizes[g]]) else 0
    for g in names:
        out[g] = min(sizes[g], max(out[g], floor if sizes[g] else 0))
    # largest remainders get the rows still missing (name order breaks ties)
    by_remainder = sorted(names, key=lambda g: (-(exact[g] - int(exact[g])), g))
    while sum(out.values()) < size:
        for g in by_remainder:
            if out[g] < sizes[g] and sum(out.values()) < size:
                out[g] += 1
    # the one-per-group floor may overshoot: take back from the largest groups
    by_size = sorted(names, key=lambda g: (-out[g], g))
    while sum(out.values()) > size:
        for g in by_size:
            if out[g] > floor and sum(out.values()) > size:
                out[g] -= 1
    return out


def stratified_rows(groups: Sequence[str], size: int, seed: int = 0) -> np.ndarray:
    """Sorted row numbers of a sample of ``size`` rows, stratified by ``groups`` (one label
    per row); all rows when there are no more than ``size``."""
    labels = np.asarray([str(g) for g in groups], dtype=object)
    n = len(labels)
    if size >= n:
        return np.arange(n, dtype=np.int64)
    if size < 1:
        raise ValueError(f"a sample needs at least 1 row, got {size}")
    names, inverse = np.unique(labels, return_inverse=True)
    sizes = {str(g): int(c) for g, c in zip(names, np.bincount(inverse), strict=True)}
    take = quotas(sizes, size)
    rng = np.random.default_rng(seed)
    chosen = []
    for i, g in enumerate(names):  # sorted names: the same draw every time
        rows = np.flatnonzero(inverse == i)
        chosen.append(rng.choice(rows, take[str(g)], replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def sample_skus(repo, model_id: str, size: int, seed: int = 0) -> list[str]:
    """Skus of a category-stratified sample of ``size`` of the model's vectors (sorted).

    Reads ids only: the skus with a vector, and the skus of each category.
    """
    skus = repo.vector_skus(model_id)
    if len(skus) <= size:
        return skus
    category = {}
    for cat in repo.distinct_values("category"):
        for s in repo.skus_in_category(cat):
            category[s] = str(cat)
    groups = [category.get(s, "unknown") for s in skus]  # a vector of a deleted item
    return [skus[r] for r in stratified_rows(groups, size, seed)]
