"""What every vector index offers: sku <-> row mapping, top-k over all rows or a subset."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np


class Hit(NamedTuple):
    sku: str
    score: float


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm as contiguous float32 (zero rows stay zero)."""
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2:
        raise ValueError(f"expected a 2-d matrix, got shape {m.shape}")
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.ascontiguousarray(m / np.where(norms > 0, norms, 1.0), dtype=np.float32)


class VectorIndex(ABC):
    """Cosine top-k over the L2-normalised embeddings of a catalog (one row per sku)."""

    kind = "base"

    def __init__(self, skus: list[str], dim: int, model_id: str = ""):
        self.skus = [str(s) for s in skus]
        self.dim = int(dim)
        self.model_id = model_id
        self._pos: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.skus)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model_id!r}, n={len(self)}, d={self.dim})"

    @property
    def positions(self) -> dict[str, int]:
        if self._pos is None:
            self._pos = {s: i for i, s in enumerate(self.skus)}
        return self._pos

    def rows_of(self, skus: Iterable[str]) -> np.ndarray:
        """Sorted unique row numbers of the given skus (skus without a vector are skipped)."""
        pos = self.positions
        rows = [pos[s] for s in map(str, skus) if s in pos]
        return np.unique(np.asarray(rows, dtype=np.int64))

    def vector(self, sku: str) -> np.ndarray | None:
        """The stored (normalised) vector of a sku, None when it has none."""
        row = self.positions.get(str(sku))
        return None if row is None else self.row_vector(row)

    @abstractmethod
    def row_vector(self, row: int) -> np.ndarray:
        """The stored vector of a row."""

    @abstractmethod
    def topk(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """(scores b x k', row numbers b x k') best first; k' = min(k, candidates).

        ``queries`` are normalised float32 (b x d); ``rows`` restricts the candidates.
        """

    def search(self, queries: np.ndarray, k: int, *, subset: Iterable[str] | None = None,
               exclude: Iterable[str] = ()) -> list[list[Hit]]:
        """Top-k hits per query, optionally only among ``subset`` skus and never ``exclude``."""
        q = normalise(queries)
        if q.shape[1] != self.dim:
            raise ValueError(f"query has {q.shape[1]} dims, the index {self.dim}")
        banned = set(map(str, exclude))
        rows = None if subset is None else self.rows_of(subset)
        if banned and rows is None and len(banned) * 8 > len(self):
            rows = np.arange(len(self), dtype=np.int64)
        if banned and rows is not None:
            rows = rows[~np.isin(rows, self.rows_of(banned))]
            banned = set()
        scores, found = self.topk(q, k + len(banned), rows)
        out = []
        for srow, rrow in zip(scores, found, strict=True):
            hits = [Hit(self.skus[r], float(s)) for s, r in zip(srow, rrow, strict=True)
                    if r >= 0 and self.skus[r] not in banned]
            out.append(hits[:k])
        return out
