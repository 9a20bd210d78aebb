"""Approximate cosine top-k for very large catalogs: FAISS IVF-Flat or HNSW (inner product).

Same interface as the exact index. The search breadth (IVF ``nprobe`` / HNSW ``efSearch``) is
tuned at build time: the smallest value whose recall@10 against exact search reaches the
target on a sample of catalog rows used as queries (themselves left out of both answers).
Small candidate subsets (restrictive filters) are searched exactly on their reconstructed rows.
"""

from __future__ import annotations

import logging
import math

import faiss
import numpy as np
import torch

from core.index.base import VectorIndex, normalise
from core.index.kernels import SEARCH_THREADS, topk_batch, torch_threads

log = logging.getLogger(__name__)

IVF_PROBES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256)
HNSW_EFS = (16, 24, 32, 48, 64, 96, 128, 192, 256, 512)
# Subsets up to this many rows are searched exactly (their vectors are reconstructed).
EXACT_SUBSET_MAX = 50_000
HNSW_QUANTIZER_MIN_LISTS = 1024


class AnnIndex(VectorIndex):
    """FAISS approximate index (``kind`` = "ivf" or "hnsw") behind the VectorIndex interface."""

    def __init__(self, skus: list[str], index: faiss.Index, *, kind: str, model_id: str = "",
                 breadth: int | None = None):
        super().__init__(skus, index.d, model_id)
        if index.ntotal != len(skus):
            raise ValueError(f"{len(skus)} skus for {index.ntotal} vectors")
        self.kind = kind
        self.index = index
        if kind == "ivf":
            index.make_direct_map()
        self.breadth = int(breadth or (16 if kind == "ivf" else 64))
        self.threads: int | None = SEARCH_THREADS  # OpenMP threads per search (None: all)
        self._hnsw_quantizer = kind == "ivf" and isinstance(
            faiss.downcast_index(index.quantizer), faiss.IndexHNSW)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def build(cls, skus: list[str], matrix: np.ndarray, *, kind: str = "ivf",
              model_id: str = "", normalised: bool = False, nlist: int | None = None,
              hnsw_m: int = 32, hnsw_quantizer: bool | None = None,
              target_recall: float = 0.95, seed: int = 0) -> AnnIndex:
        """Train/fill the FAISS index on ``matrix`` and tune its search breadth.

        IVF with many lists finds its nearest lists through a small HNSW graph over the
        centroids (faiss' IVF..._HNSW recipe) instead of scanning every centroid.
        """
        m = np.ascontiguousarray(matrix, dtype=np.float32) if normalised else normalise(matrix)
        n, d = m.shape
        if kind == "ivf":
            nlist = nlist or max(1, min(int(4 * math.sqrt(n)), n // 39))
            if hnsw_quantizer is None:
                hnsw_quantizer = nlist >= HNSW_QUANTIZER_MIN_LISTS
            quantizer = (faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
                         if hnsw_quantizer else faiss.IndexFlatIP(d))
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
            index.clustering_index = faiss.IndexFlatIP(d)  # k-means on a flat index
            rng = np.random.default_rng(seed)
            train = m if n <= 64 * nlist else m[np.sort(rng.choice(n, 64 * nlist, replace=False))]
            index.train(train)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
        else:
            raise ValueError(f"unknown approximate index kind {kind!r}; use ivf or hnsw")
        index.add(m)
        ann = cls(skus, index, kind=kind, model_id=model_id)
        ann.tune(m, target_recall=target_recall, seed=seed)
        return ann

    def tune(self, matrix: np.ndarray, *, target_recall: float = 0.95, k: int = 10,
             sample: int = 200, seed: int = 0) -> dict[int, float]:
        """Pick the smallest breadth reaching ``target_recall``; returns {breadth: recall}."""
        n = matrix.shape[0]
        if n <= k + 1:
            return {}
        rows = np.random.default_rng(seed + 1).choice(n, min(sample, n), replace=False)
        q = matrix[rows]
        truth = _exact_rows(matrix, q, k + 1)
        curve: dict[int, float] = {}
        for breadth in IVF_PROBES if self.kind == "ivf" else HNSW_EFS:
            self.breadth = breadth
            _, found = self.topk(q, k + 1)
            curve[breadth] = recall_at_k(found, truth, k, exclude=rows)
            if curve[breadth] >= target_recall:
                break
        log.info("%s index tuned: breadth %d, recall@%d %.3f", self.kind, self.breadth, k,
                 curve[self.breadth])
        return curve

    # -- queries ---------------------------------------------------------------------------
    def _params(self, selector=None) -> list:
        """[search parameters, objects they point to]: the caller keeps all of them alive
        during the search (faiss holds raw pointers)."""
        if self.kind == "ivf":
            params = faiss.SearchParametersIVF(nprobe=self.breadth, sel=selector)
            if not self._hnsw_quantizer:
                return [params, selector]
            # the centroid graph must return at least nprobe lists
            graph = faiss.SearchParametersHNSW(efSearch=max(2 * self.breadth, 32))
            params.quantizer_params = graph
            return [params, selector, graph]
        return [faiss.SearchParametersHNSW(efSearch=max(self.breadth, 1), sel=selector),
                selector]

    def row_vector(self, row: int) -> np.ndarray:
        return self.index.reconstruct(int(row))

    def topk(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        cand = len(self) if rows is None else len(rows)
        k = min(int(k), cand)
        if k <= 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        if rows is not None and len(rows) <= EXACT_SUBSET_MAX:
            rows = np.asarray(rows, dtype=np.int64)
            sub = self.index.reconstruct_batch(rows)
            with torch_threads(self.threads):
                scores, pos = torch.topk(torch.from_numpy(q) @ torch.from_numpy(sub).T, k, dim=1)
            return scores.numpy(), rows[pos.numpy()]
        sel = None if rows is None else faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
        params = self._params(sel)
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(self.threads or before)
        try:
            scores, found = self.index.search(q, k, params=params[0])
        finally:
            faiss.omp_set_num_threads(before)
        return scores, found


def _exact_rows(matrix: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    m = torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32))
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    return topk_batch(m, q, k)[1].numpy()


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int,
                exclude: np.ndarray | None = None) -> float:
    """Mean fraction of the true top-k found (each query's own row, if given, ignored)."""
    hits = 0
    for i, (f, t) in enumerate(zip(found, truth, strict=True)):
        own = None if exclude is None else int(exclude[i])
        t_k = [r for r in t if r != own][:k]
        f_k = {int(r) for r in [r for r in f if r != own and r >= 0][:k]}
        hits += len(f_k.intersection(t_k))
    return hits / (k * len(truth))
