"""Exact cosine top-k on torch: one normalised float32 matrix, matmul + torch.topk."""

from __future__ import annotations

import numpy as np
import torch

from core.index.base import VectorIndex, normalise
from core.index.kernels import SEARCH_THREADS, pick_single_kernel, topk_batch, torch_threads

# A subset smaller than this fraction of the catalog is gathered and scanned on its own;
# a larger one is scored with the whole matrix and the other rows masked out.
GATHER_FRACTION = 0.25
# Up to this many queries go one by one through the bandwidth-bound single-query kernel.
SINGLE_QUERY_MAX = 3


class ExactIndex(VectorIndex):
    """Brute-force cosine search: exact, never a full sort (torch.topk)."""

    kind = "exact"

    def __init__(self, skus: list[str], matrix: np.ndarray, *, model_id: str = "",
                 device: str = "cpu", kernel: str = "auto", normalised: bool = False,
                 threads: int | None = SEARCH_THREADS):
        m = np.ascontiguousarray(matrix, dtype=np.float32) if normalised else normalise(matrix)
        if len(skus) != m.shape[0]:
            raise ValueError(f"{len(skus)} skus for {m.shape[0]} vectors")
        super().__init__(skus, m.shape[1], model_id)
        self.device = torch.device(device)
        self.matrix = torch.from_numpy(m).to(self.device)
        self.kernel, self._score_one = pick_single_kernel(self.matrix, kernel)
        self.threads = threads  # intra-op threads per search (None: torch's setting)

    def row_vector(self, row: int) -> np.ndarray:
        return self.matrix[int(row)].cpu().numpy().copy()

    def topk(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        with torch_threads(self.threads if self.device.type == "cpu" else None):
            return self._topk_rows(queries, k, rows)

    def _topk_rows(self, queries: np.ndarray, k: int, rows: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
        q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(self.device)
        cand = len(self) if rows is None else len(rows)
        k = min(int(k), cand)
        if k <= 0:
            empty = np.zeros((q.shape[0], 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if rows is None:
            s, r = self._topk(self.matrix, q, k, self._score_one)
            return s.cpu().numpy(), r.cpu().numpy()
        rows_t = torch.from_numpy(np.asarray(rows, dtype=np.int64)).to(self.device)
        if cand < GATHER_FRACTION * len(self):
            sub = self.matrix.index_select(0, rows_t)
            s, r = self._topk(sub, q, k, pick_single_kernel(sub, "blas")[1])
            return s.cpu().numpy(), rows_t[r].cpu().numpy()
        mask = torch.ones(len(self), dtype=torch.bool, device=self.device)
        mask[rows_t] = False  # True = excluded
        s, r = self._topk(self.matrix, q, k, self._score_one, excluded=mask)
        return s.cpu().numpy(), r.cpu().numpy()

    @staticmethod
    def _topk(matrix: torch.Tensor, q: torch.Tensor, k: int, score_one,
              excluded: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if q.shape[0] > SINGLE_QUERY_MAX:
            return topk_batch(matrix, q, k, excluded)
        vals, rows = [], []
        for qi in q:
            scores = score_one(matrix, qi)
            if excluded is not None:
                scores = scores.masked_fill(excluded, float("-inf"))
            v, r = torch.topk(scores, k, sorted=True)
            vals.append(v)
            rows.append(r)
        return torch.stack(vals), torch.stack(rows)

