"""Scoring kernels for the exact index: one query against every row, or a batch of queries.

A single query against an n x d matrix is a matrix-vector product bound by memory bandwidth.
MKL's sgemv reaches well under half of this machine's bandwidth on some CPUs, so the default
for matrices beyond the caches is a fused multiply-reduce compiled by TorchInductor;
when compilation is unavailable (no C++ compiler) the row-blocked BLAS path is used instead.
On the CPU, "auto" prefers the native fused scoring + top-k kernel (core/index/native.py),
which ExactIndex calls straight from numpy; its torch fallback is BLAS.
Batches of queries are compute-bound and go to BLAS matmul in row blocks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from core.index import native

log = logging.getLogger(__name__)

# Row block for the BLAS paths: a block of scores stays in cache, the matrix streams through.
MV_BLOCK_ROWS = 8192
MM_BLOCK_ROWS = 32768
# Matrices smaller than this use BLAS even when the compiled kernel is available: they sit in
# cache, where sgemv is as fast, and compiling costs seconds once per process. Above it,
# single-threaded sgemv reached 4-10 GB/s here against 16-24 GB/s for the compiled kernel.
COMPILED_MIN_BYTES = 4 * 1024 * 1024

# Threads per search. One query per core: concurrent requests bring the parallelism. On a
# shared CPU a 2-thread OpenMP scan stalls whenever one of its threads is descheduled;
# measured on this 2-core machine under load, one thread was 1.1-15x faster (bench search).
SEARCH_THREADS = 1
KERNELS = ("auto", "native", "compiled", "blas")

_compiled: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
_compiled_state = "untried"  # untried | ok | failed
_lock = threading.Lock()


def _dot_rows(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return (x.float() * q).sum(-1)  # float16 rows are widened in registers, summed in float32


def compiled_kernel() -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    """The compiled fused row-dot kernel, compiling (and checking) it once; None if unavailable."""
    global _compiled, _compiled_state
    with _lock:
        if _compiled_state == "untried":
            try:
                fn = torch.compile(_dot_rows, dynamic=True)
                x = torch.randn(257, 33)
                q = torch.randn(33)
                for rows in (x, x.half()):
                    if not torch.allclose(fn(rows, q), rows.float() @ q, atol=1e-4):
                        raise RuntimeError("compiled kernel disagrees with matmul")
                _compiled, _compiled_state = fn, "ok"
            except Exception as exc:  # no compiler, unsupported platform, ...
                log.warning("compiled scoring kernel unavailable (%s); using BLAS",
                            str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
                _compiled_state = "failed"
        return _compiled


def scores_blas(matrix: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Scores of one query (d,) against every row, as row-blocked BLAS matrix-vector products."""
    n = matrix.shape[0]
    out = torch.empty(n, dtype=torch.float32, device=matrix.device)
    for start in range(0, n, MV_BLOCK_ROWS):
        stop = min(start + MV_BLOCK_ROWS, n)
        torch.mv(matrix[start:stop].float(), q, out=out[start:stop])
    return out


def pick_single_kernel(matrix: torch.Tensor, kernel: str = "auto"
                       ) -> tuple[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    """(name, fn) of the kernel that scores one query against ``matrix``.

    For "native" (the caller runs native.NativeScan itself) ``fn`` is the BLAS fallback.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; use {', '.join(KERNELS)}")
    on_cpu = matrix.device.type == "cpu"
    if kernel in {"auto", "native"} and on_cpu and native.available():
        return "native", scores_blas
    big = matrix.numel() * matrix.element_size() >= COMPILED_MIN_BYTES
    wants = kernel == "compiled" or (kernel in {"auto", "native"} and big and on_cpu)
    if wants:
        fn = compiled_kernel()
        if fn is not None:
            return "compiled", fn
    if not on_cpu:
        return "blas", lambda m, q: m.float() @ q
    return "blas", scores_blas


def topk_batch(matrix: torch.Tensor, queries: torch.Tensor, k: int,
               excluded: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k (scores b x k, rows b x k) of a batch: blocked matmul, per-block top-k, merge.

    ``excluded`` (bool, n) marks rows that may not be returned. Never builds b x n scores.
    """
    n = matrix.shape[0]
    vals, rows = [], []
    for start in range(0, n, MM_BLOCK_ROWS):
        block = queries @ matrix[start : start + MM_BLOCK_ROWS].T
        if excluded is not None:
            block.masked_fill_(excluded[start : start + MM_BLOCK_ROWS], float("-inf"))
        v, i = torch.topk(block, min(k, block.shape[1]), dim=1, sorted=n <= MM_BLOCK_ROWS)
        if n <= MM_BLOCK_ROWS:
            return v, i
        vals.append(v)
        rows.append(i + start)
    v, pos = torch.topk(torch.cat(vals, dim=1), k, dim=1, sorted=True)
    return v, torch.gather(torch.cat(rows, dim=1), 1, pos)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads (None: leave torch's setting)."""
    old = torch.get_num_threads()
    if not n or n == old:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
