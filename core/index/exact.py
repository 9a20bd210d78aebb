"""Exact cosine top-k on torch: one normalised float32 matrix, matmul + torch.topk.

With ``storage="float16"`` a single query scans a half-precision copy (half the bytes of a
memory-bound scan) and stays exact: every row whose float16 score is within twice the
float16 error bound of the k-th best is re-scored from the float32 matrix, and the top-k is
taken from those exact scores. The true top-k is always among the re-scored rows.

On the CPU, up to SINGLE_QUERY_MAX queries go straight from numpy to the native fused
scoring + top-k kernel (core/index/native.py) when it could be built: no torch round trip.
"""

from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from core.index import native
from core.index.base import VectorIndex, normalise
from core.index.kernels import SEARCH_THREADS, pick_single_kernel, topk_batch, torch_threads

# A subset smaller than this fraction of the catalog is gathered and scanned on its own;
# a larger one is scored with the whole matrix and the other rows masked out.
GATHER_FRACTION = 0.25
# Up to this many queries go one by one through the bandwidth-bound single-query kernel.
SINGLE_QUERY_MAX = 3
STORAGES = ("auto", "float32", "float16")
# Matrices from this size (beyond the caches) are split into one row block per core when a
# search may use several threads: one core alone cannot draw the machine's memory bandwidth.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# "auto" scans float16 rows from this size on (measured 1.3-1.6x faster per query at 100k-1M
# rows); below it the re-scoring step costs more than the halved scan saves.
HALF_MIN_BYTES = 64 * 1024 * 1024
# With the native kernel re-scoring costs next to nothing: float16 was as fast at 5-10 MB of
# float32 rows and 1.8-2x faster at 20-50 MB (10k x 512, 40k x 128, 100k x 128).
HALF_MIN_BYTES_NATIVE = 8 * 1024 * 1024


def half_error_bound(d: int) -> float:
    """Bound on |float32 score - float16-rows score| for unit-norm rows and query.

    Rounding each element to float16 errs by at most 2^-11 of it (2^-25 absolute below the
    normal range), so the dot product moves by <= 2^-11 * sum|q_i x_i| <= 2^-11 (Cauchy-
    Schwarz) plus 2^-25 * sqrt(d); each float32 sum adds <= d * 2^-24 (two sums compared).
    """
    return 2.0**-11 + 2.0**-25 * d**0.5 + 2 * d * 2.0**-24


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Threads that scan row blocks of one query in parallel (one per core)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="exact-scan")
        return _POOL


class ExactIndex(VectorIndex):
    """Brute-force cosine search: exact, never a full sort (torch.topk)."""

    kind = "exact"

    def __init__(self, skus: list[str], matrix: np.ndarray, *, model_id: str = "",
                 device: str = "cpu", kernel: str = "auto", normalised: bool = False,
                 threads: int | None = SEARCH_THREADS, storage: str = "auto"):
        m = np.ascontiguousarray(matrix, dtype=np.float32) if normalised else normalise(matrix)
        if len(skus) != m.shape[0]:
            raise ValueError(f"{len(skus)} skus for {m.shape[0]} vectors")
        super().__init__(skus, m.shape[1], model_id)
        self.device = torch.device(device)
        with warnings.catch_warnings():  # a memory-mapped cache file is read-only: never written
            warnings.filterwarnings("ignore", "The given NumPy array is not writable")
            self.matrix = torch.from_numpy(m).to(self.device)
        if storage not in STORAGES:
            raise ValueError(f"unknown storage {storage!r}; use {' or '.join(STORAGES)}")
        if storage == "auto":
            native_first = kernel in {"auto", "native"} and self.device.type == "cpu" \
                and native.available()
            half_from = HALF_MIN_BYTES_NATIVE if native_first else HALF_MIN_BYTES
            storage = "float16" if m.nbytes >= half_from else "float32"
        self.storage = storage
        # what single queries scan: the matrix itself, or its float16 copy
        self.scan = self.matrix if storage == "float32" else self.matrix.half()
        self.kernel, self._score_one = pick_single_kernel(self.scan, kernel)
        self._native = None if self.kernel != "native" else native.NativeScan(
            self.matrix.numpy(), None if self.scan is self.matrix else self.scan.numpy())
        self._parts = self._split_scans() if self._native is not None else []
        self._half = storage == "float16"
        self._margin = 2 * half_error_bound(self.dim) if self._half else 0.0  # times |q|
        self.threads = threads  # intra-op threads per search (None: torch's setting)
        self.candidates_seen = 0  # rows re-scored by the last float16 query (diagnostics)

    def row_vector(self, row: int) -> np.ndarray:
        return self.matrix[int(row)].cpu().numpy().copy()

    def topk(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        if self._native is not None:
            if not isinstance(queries, np.ndarray):
                queries = np.asarray(queries, dtype=np.float32)
            if rows is None and queries.shape == (1, self.dim):  # the common case, lean
                if self._parts and self.threads != 1:
                    return self._best_parallel(queries[0], int(k))
                s, r, seen = self._native.best(queries[0], int(k), self._half, self._margin)
                if self._half:
                    self.candidates_seen = seen
                return s[None], r[None]
            if len(queries) <= SINGLE_QUERY_MAX:
                return self._topk_native(queries, k, rows)
        with torch_threads(self.threads if self.device.type == "cpu" else None):
            return self._topk_rows(queries, k, rows)

    def _split_scans(self) -> list[tuple[int, native.NativeScan]]:
        """Row blocks, one per core, for scanning a matrix beyond the caches with every core
        (used when ``threads`` is not 1); empty for smaller matrices or a single core."""
        cores = os.cpu_count() or 1
        if cores < 2 or self.matrix.numel() * 4 < PARALLEL_MIN_BYTES:
            return []
        m = self.matrix.numpy()
        h = None if self.scan is self.matrix else self.scan.numpy()
        bounds = np.linspace(0, len(m), cores + 1).astype(int)
        return [(int(a), native.NativeScan(m[a:b], None if h is None else h[a:b]))
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def _best_parallel(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """One query, its row blocks scanned at once (the C kernel releases the GIL); the
        exact top-k of each block merged into the exact top-k of all rows."""
        k = max(0, min(k, len(self)))
        futures = [_pool().submit(part.best, query, k, self._half, self._margin)
                   for _, part in self._parts]
        found = [f.result() for f in futures]
        scores = np.concatenate([s for s, _, _ in found])
        rows = np.concatenate([r + off for (off, _), (_, r, _) in
                               zip(self._parts, found, strict=True)])
        self.candidates_seen = sum(seen for _, _, seen in found)
        order = np.lexsort((rows, -scores))[:k]  # best first, lower row first on ties
        return scores[order][None], rows[order][None]

    def _topk_native(self, queries: np.ndarray, k: int, rows: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Single queries through the native kernel (scores and rows are padded with -inf / -1
        when duplicate ``rows`` leave fewer than k candidates)."""
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise ValueError(f"queries must be b x {self.dim}, got shape {queries.shape}")
        n = len(self)
        k = max(0, min(int(k), n if rows is None else len(rows)))
        ids = excluded = None
        if rows is not None:
            rows = np.ascontiguousarray(rows, dtype=np.int64)
            if len(rows) < GATHER_FRACTION * n:
                ids = rows
            else:
                excluded = np.ones(n, dtype=bool)
                excluded[rows] = False
        found = [self._native.topk(qi, k, ids=ids, excluded=excluded, half=self._half,
                                   margin=self._margin) for qi in queries]
        if self._half:
            self.candidates_seen = found[-1][2]
        if len(found) == 1 and len(found[0][0]) == k:
            return found[0][0][None], found[0][1][None]
        scores = np.full((len(found), k), -np.inf, dtype=np.float32)
        out = np.full((len(found), k), -1, dtype=np.int64)
        for i, (s, r, _) in enumerate(found):
            scores[i, : len(s)], out[i, : len(r)] = s, r
        return scores, out

    def _topk_rows(self, queries: np.ndarray, k: int, rows: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
        q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(self.device)
        cand = len(self) if rows is None else len(rows)
        k = min(int(k), cand)
        if k <= 0:
            empty = np.zeros((q.shape[0], 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if rows is None:
            s, r = self._topk(self.matrix, q, k, self._score_one, scan=self.scan)
            return s.cpu().numpy(), r.cpu().numpy()
        rows_t = torch.from_numpy(np.asarray(rows, dtype=np.int64)).to(self.device)
        if cand < GATHER_FRACTION * len(self):
            sub = self.matrix.index_select(0, rows_t)
            s, r = self._topk(sub, q, k, pick_single_kernel(sub, "blas")[1])
            return s.cpu().numpy(), rows_t[r].cpu().numpy()
        mask = torch.ones(len(self), dtype=torch.bool, device=self.device)
        mask[rows_t] = False  # True = excluded
        s, r = self._topk(self.matrix, q, k, self._score_one, excluded=mask, scan=self.scan)
        return s.cpu().numpy(), r.cpu().numpy()

    def _topk(self, matrix: torch.Tensor, q: torch.Tensor, k: int, score_one,
              excluded: torch.Tensor | None = None, scan: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        if q.shape[0] > SINGLE_QUERY_MAX:
            return topk_batch(matrix, q, k, excluded)
        scan = matrix if scan is None else scan
        vals, rows = [], []
        for qi in q:
            scores = score_one(scan, qi)
            if excluded is not None:
                scores = scores.masked_fill(excluded, float("-inf"))
            if scan.dtype == torch.float32:
                v, r = torch.topk(scores, k, sorted=True)
            else:
                v, r = self._rescore(matrix, qi, scores, k)
            vals.append(v)
            rows.append(r)
        return torch.stack(vals), torch.stack(rows)

    def _rescore(self, matrix: torch.Tensor, qi: torch.Tensor, approx: torch.Tensor, k: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact top-k from float16 scores: re-score every row that could still be in it."""
        margin = 2 * half_error_bound(self.dim) * float(qi.norm())
        kth = torch.topk(approx, k, sorted=False).values.min()
        cand = torch.nonzero(approx >= kth - margin).squeeze(1)
        self.candidates_seen = len(cand)
        exact = matrix.index_select(0, cand) @ qi
        v, pos = torch.topk(exact, k, sorted=True)
        return v, cand[pos]

