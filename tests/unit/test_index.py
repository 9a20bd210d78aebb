"""Vector index correctness against a numpy brute force (exact and approximate)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.index import (
    AnnIndex,
    ExactIndex,
    build_index,
    choose_kind,
    kernels,
    native,
    normalise,
    recall_at_k,
)
from core.index import exact as exact_mod


def _data(n: int, d: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    return [f"sku{i:05d}" for i in range(n)], rng.standard_normal((n, d)).astype(np.float32)


def _brute(matrix: np.ndarray, queries: np.ndarray, k: int, rows=None):
    m, q = normalise(matrix), normalise(queries)
    cand = np.arange(len(m)) if rows is None else np.asarray(rows)
    scores = q @ m[cand].T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), cand[order]


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["blas", "compiled"])
@pytest.mark.parametrize("nq", [1, 2, 7])
def test_exact_matches_brute_force(kernel, nq):
    skus, m = _data(3000, 24)
    queries = np.random.default_rng(1).standard_normal((nq, 24)).astype(np.float32)
    idx = ExactIndex(skus, m, kernel=kernel)
    s, r = idx.topk(normalise(queries), 10)
    ws, wr = _brute(m, queries, 10)
    np.testing.assert_allclose(s, ws, atol=1e-5)
    np.testing.assert_array_equal(r, wr)


def test_blocked_paths_match_brute_force(monkeypatch):
    monkeypatch.setattr(kernels, "MV_BLOCK_ROWS", 128)
    monkeypatch.setattr(kernels, "MM_BLOCK_ROWS", 256)
    skus, m = _data(1000, 16, seed=3)
    queries = np.random.default_rng(4).standard_normal((6, 16)).astype(np.float32)
    idx = ExactIndex(skus, m, kernel="blas")
    for q in (queries[:1], queries):
        s, r = idx.topk(normalise(q), 15)
        ws, wr = _brute(m, q, 15)
        np.testing.assert_allclose(s, ws, atol=1e-5)
        np.testing.assert_array_equal(r, wr)


@pytest.mark.parametrize("subset_size", [5, 100, 900])  # gathered and masked paths
@pytest.mark.parametrize("nq", [1, 5])
def test_exact_subset(subset_size, nq):
    skus, m = _data(1000, 16, seed=5)
    rng = np.random.default_rng(6)
    rows = np.sort(rng.choice(1000, subset_size, replace=False))
    queries = rng.standard_normal((nq, 16)).astype(np.float32)
    idx = ExactIndex(skus, m)
    s, r = idx.topk(normalise(queries), 10, rows)
    ws, wr = _brute(m, queries, 10, rows)
    np.testing.assert_allclose(s, ws, atol=1e-5)
    np.testing.assert_array_equal(r, wr)
    assert set(r.ravel()) <= set(rows)


def test_k_larger_than_candidates():
    skus, m = _data(7, 8)
    idx = ExactIndex(skus, m)
    hits = idx.search(m[:1], 50)[0]
    assert len(hits) == 7
    assert hits[0].sku == "sku00000" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    sub = idx.search(m[:2], 50, subset=["sku00003", "sku00005", "nope"])
    assert [len(h) for h in sub] == [2, 2]
    assert idx.search(m[:1], 5, subset=[])[0] == []


def test_search_excludes_and_maps_skus():
    skus, m = _data(200, 12, seed=9)
    idx = ExactIndex(skus, m)
    hits = idx.search(m[10:11], 5, exclude=["sku00010"])[0]
    assert "sku00010" not in [h.sku for h in hits]
    want = _brute(m, m[10:11], 6)[1][0][1:]
    assert [h.sku for h in hits] == [skus[i] for i in want]
    np.testing.assert_allclose(idx.vector("sku00010"), normalise(m[10:11])[0], atol=1e-6)
    assert idx.vector("missing") is None


def test_zero_vector_and_dimension_check():
    skus, m = _data(20, 8)
    m[3] = 0
    idx = ExactIndex(skus, m)
    assert np.all(np.isfinite(idx.topk(normalise(m[:2]), 20)[0]))
    with pytest.raises(ValueError, match="dims"):
        idx.search(np.ones((1, 9), np.float32), 3)


def test_choose_kind():
    assert choose_kind(1000) == "exact"
    assert choose_kind(10_000_000) == "ivf"
    assert choose_kind(10, "hnsw") == "hnsw"
    # mongo searches on the server when it can; its in-process fallback follows the auto rule
    assert choose_kind(1000, "mongo") == "exact" and choose_kind(10_000_000, "mongo") == "ivf"
    with pytest.raises(ValueError):
        choose_kind(10, "bogus")


def _clustered(n: int, d: int, clusters: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = normalise(rng.standard_normal((clusters, d)).astype(np.float32))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, d)) / np.sqrt(d)
    return normalise(x.astype(np.float32))


@pytest.mark.parametrize("kind", ["ivf", "ivf_graph", "hnsw"])
def test_ann_recall_and_subsets(kind, monkeypatch):
    both = _clustered(6050, 32, 40)
    m, q = both[:6000], both[6000:]  # queries: unseen points of the same distribution
    skus = [f"s{i}" for i in range(len(m))]
    if kind == "ivf_graph":  # IVF whose centroids are searched through an HNSW graph
        ann = AnnIndex.build(skus, m, kind="ivf", normalised=True, hnsw_quantizer=True)
        assert ann._hnsw_quantizer
    else:
        ann = build_index(skus, m, kind=kind, normalised=True)
        assert ann.kind == kind
    _, truth = _brute(m, q, 10)
    _, found = ann.topk(q, 10)
    assert recall_at_k(found, truth, 10) >= 0.9
    rows = np.arange(0, 6000, 7)
    s, r = ann.topk(q, 10, rows)  # small subset: exact over reconstructed rows
    ws, wr = _brute(m, q, 10, rows)
    np.testing.assert_allclose(s, ws, atol=1e-5)
    monkeypatch.setattr("core.index.ann.EXACT_SUBSET_MAX", 10)  # selector path
    _, r2 = ann.topk(q, 10, rows)
    assert set(r2[r2 >= 0].ravel()) <= set(rows)
    np.testing.assert_allclose(ann.vector("s5"), m[5], atol=1e-6)


def test_recall_at_k_ignores_own_row():
    truth = np.array([[0, 1, 2, 3]])
    assert recall_at_k(np.array([[0, 1, 2, 9]]), truth, 3, exclude=np.array([0])) == 2 / 3
    assert recall_at_k(np.array([[1, 2, 3]]), truth, 3) == 2 / 3


def test_single_query_kernel_choice(monkeypatch):
    skus, m = _data(50, 8)
    assert ExactIndex(skus, m, kernel="blas").kernel == "blas"
    monkeypatch.setattr(exact_mod, "pick_single_kernel", kernels.pick_single_kernel)
    monkeypatch.setattr(kernels, "COMPILED_MIN_BYTES", 1 << 40)
    want = "native" if native.available() else "blas"
    assert ExactIndex(skus, m).kernel == want  # auto: native on the CPU when it could be built
    monkeypatch.setattr(native, "available", lambda: False)
    assert ExactIndex(skus, m).kernel == "blas"  # auto: small matrices skip compilation
    assert ExactIndex(skus, m, kernel="native").kernel == "blas"  # falls back


def test_search_threads_restored():
    before = torch.get_num_threads()
    skus, m = _data(300, 8)
    for threads in (1, None):
        idx = ExactIndex(skus, m, threads=threads)
        s, r = idx.topk(normalise(m[:5]), 3)
        np.testing.assert_array_equal(r[:, 0], np.arange(5))
        assert torch.get_num_threads() == before
    with kernels.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kernel", ["blas", "compiled"])
def test_float16_storage_is_still_exact(kernel):
    skus, m = _data(4000, 32, seed=11)
    rng = np.random.default_rng(12)
    queries = rng.standard_normal((3, 32)).astype(np.float32)
    idx = ExactIndex(skus, m, storage="float16", kernel=kernel)
    assert idx.scan.dtype == torch.float16
    s, r = idx.topk(normalise(queries), 10)
    ws, wr = _brute(m, queries, 10)
    np.testing.assert_array_equal(r, wr)
    np.testing.assert_allclose(s, ws, atol=1e-6)  # scores come from the float32 rows
    rows = np.arange(0, 4000, 2)  # masked path (large subset)
    s, r = idx.topk(normalise(queries[:1]), 5, rows)
    np.testing.assert_array_equal(r, _brute(m, queries[:1], 5, rows)[1])


def test_float16_storage_resolves_near_ties():
    # 500 rows whose scores differ by ~1e-5: float16 (error up to ~5e-4) cannot order them,
    # the float32 re-scoring must
    rng = np.random.default_rng(13)
    q = normalise(rng.standard_normal((1, 64)).astype(np.float32))
    near = q + 1e-3 * rng.standard_normal((500, 64)).astype(np.float32)
    far = rng.standard_normal((3000, 64)).astype(np.float32)
    m = normalise(np.vstack([near, far]))
    skus = [str(i) for i in range(len(m))]
    idx = ExactIndex(skus, m, storage="float16", normalised=True)
    s, r = idx.topk(q, 20)
    exact = m.astype(np.float64) @ q[0].astype(np.float64)
    want = np.argsort(-exact)[:20]
    # the same rows as the float64 truth, up to float32 rounding between near-equal scores
    assert np.all(exact[r[0]] >= exact[want[-1]] - 1e-6)
    np.testing.assert_allclose(s[0], exact[r[0]], atol=1e-6)
    half = (torch.from_numpy(m).half().float() @ torch.from_numpy(q[0])).numpy()
    wrong = np.argsort(-half)[:20]
    assert np.any(exact[wrong] < exact[want[-1]] - 1e-6)  # float16 alone gets it wrong
    assert 20 < idx.candidates_seen <= 500
    with pytest.raises(ValueError, match="storage"):
        ExactIndex(skus, m, storage="int8")


def test_auto_storage_by_size(monkeypatch):
    skus, m = _data(500, 16, seed=21)
    assert ExactIndex(skus, m).storage == "float32"
    monkeypatch.setattr(exact_mod, "HALF_MIN_BYTES", 1000)
    assert ExactIndex(skus, m, kernel="blas").storage == "float16"
    monkeypatch.setattr(exact_mod, "HALF_MIN_BYTES_NATIVE", 1000)
    idx = ExactIndex(skus, m)
    assert idx.storage == "float16"
    np.testing.assert_array_equal(idx.topk(normalise(m[:2]), 7)[1], _brute(m, m[:2], 7)[1])
