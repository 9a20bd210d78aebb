"""The native fused scoring + top-k kernel against a numpy brute force, and its fallback."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from core.index import ExactIndex, kernels, native, normalise
from core.index.exact import half_error_bound

needs_native = pytest.mark.skipif(not native.available(), reason="no C compiler here")


def _unit(n: int, d: int, seed: int) -> np.ndarray:
    return normalise(np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32))


def _brute(m: np.ndarray, q: np.ndarray, k: int, cand: np.ndarray | None = None):
    cand = np.arange(len(m)) if cand is None else cand
    scores = m[cand].astype(np.float64) @ q.astype(np.float64)
    order = np.argsort(-scores, kind="stable")[:k]  # ties: the earlier candidate first
    return scores[order], cand[order]


def _same(m, q, s, r, ws, wr) -> None:
    """Same top-k as the brute force: identical rows, except that rows whose float64 scores
    are within float32 rounding of each other may swap places."""
    np.testing.assert_allclose(s, ws, atol=1e-5)
    assert len(set(r.tolist())) == len(r)
    swapped = r != wr
    if swapped.any():
        np.testing.assert_allclose(m[r[swapped]].astype(np.float64) @ q, ws[swapped],
                                   atol=1e-6)


@needs_native
@pytest.mark.parametrize("d", [5, 37, 128, 131])  # not multiples of 8/16 too
@pytest.mark.parametrize("half", [False, True])
def test_matches_brute_force(d, half):
    m = _unit(1500, d, seed=d)
    scan = native.NativeScan(m, m.astype(np.float16))
    margin = 2 * half_error_bound(d)
    for q in _unit(4, d, seed=d + 1):
        for k in (1, 10, 300):
            s, r, seen = scan.topk(q, k, half=half, margin=margin)
            ws, wr = _brute(m, q, k)
            _same(m, q, s, r, ws, wr)
            assert s.dtype == np.float32 and r.dtype == np.int64
            assert (k <= seen <= len(m)) if half else seen == 0


@needs_native
@pytest.mark.parametrize("half", [False, True])
def test_exclusion_ids_and_k_beyond_candidates(half):
    m = _unit(700, 19, seed=3)
    q = _unit(1, 19, seed=4)[0]
    scan = native.NativeScan(m, m.astype(np.float16))
    margin = 2 * half_error_bound(19)
    excluded = np.zeros(len(m), dtype=bool)
    excluded[::3] = True
    s, r, _ = scan.topk(q, 50, excluded=excluded, half=half, margin=margin)
    ws, wr = _brute(m, q, 50, np.flatnonzero(~excluded))
    np.testing.assert_array_equal(r, wr)
    np.testing.assert_allclose(s, ws, atol=1e-5)
    ids = np.array([650, 3, 99, 400, 12], dtype=np.int64)  # any order: ties keep this order
    s, r, _ = scan.topk(q, 99, ids=ids, half=half, margin=margin)
    assert len(s) == len(ids)  # k larger than the candidates
    np.testing.assert_array_equal(r, _brute(m, q, 99, ids)[1])
    s, r, _ = scan.topk(q, 5000, excluded=excluded, half=half, margin=margin)
    assert len(r) == (~excluded).sum() and not excluded[r].any()
    assert len(scan.topk(q, 0)[0]) == 0


@needs_native
@pytest.mark.parametrize("half", [False, True])
def test_ties_are_deterministic(half):
    base = _unit(1, 24, seed=5)[0]
    m = np.tile(base, (40, 1))  # 40 identical rows: equal scores
    m[::2] *= -1
    scan = native.NativeScan(np.ascontiguousarray(m), m.astype(np.float16))
    s, r, _ = scan.topk(base, 7, half=half, margin=2 * half_error_bound(24))
    np.testing.assert_array_equal(r, [1, 3, 5, 7, 9, 11, 13])  # lower row first
    assert np.all(s == s[0])


@needs_native
def test_bad_arguments_are_rejected():
    m = _unit(10, 8, seed=6)
    scan = native.NativeScan(m)
    with pytest.raises(ValueError, match="query"):
        scan.topk(np.ones(9, dtype=np.float32), 3)
    with pytest.raises(ValueError, match="ids"):
        scan.topk(m[0], 3, ids=np.array([1, 10], dtype=np.int64))
    with pytest.raises(ValueError, match="excluded"):
        scan.topk(m[0], 3, excluded=np.zeros(5, dtype=bool))
    with pytest.raises(ValueError, match="float16"):
        scan.topk(m[0], 3, half=True)
    with pytest.raises(ValueError, match="float32"):
        native.NativeScan(m.astype(np.float64))


@needs_native
@pytest.mark.parametrize("storage", ["float32", "float16"])
def test_exact_index_uses_native(storage):
    m = _unit(3000, 40, seed=7)
    skus = [f"s{i}" for i in range(len(m))]
    idx = ExactIndex(skus, m, normalised=True, storage=storage)
    assert idx.kernel == "native"
    assert ExactIndex(skus, m, normalised=True, kernel="native").kernel == "native"
    queries = _unit(3, 40, seed=8)
    s, r = idx.topk(queries, 10)
    for i, q in enumerate(queries):
        ws, wr = _brute(m, q, 10)
        np.testing.assert_array_equal(r[i], wr)
        np.testing.assert_allclose(s[i], ws, atol=1e-5)
        s1, r1 = idx.topk(q[None], 10)  # the lean one-query path
        np.testing.assert_array_equal(r1, r[i : i + 1])
        np.testing.assert_array_equal(s1, s[i : i + 1])
    s, r = idx.topk(queries[:1].astype(np.float64), 5000)  # k beyond n, any float dtype
    assert s.shape == r.shape == (1, 3000) and s.dtype == np.float32
    _same(m, queries[0], s[0], r[0], *_brute(m, queries[0], 3000))
    assert idx.topk(queries[:1], 0)[0].shape == (1, 0)
    for rows in (np.arange(0, 3000, 7), np.arange(0, 3000, 2)):  # id list and mask paths
        s, r = idx.topk(queries[:1], 12, rows)
        np.testing.assert_array_equal(r[0], _brute(m, queries[0], 12, rows)[1])
    even = np.arange(0, 3000, 2)
    s, r = idx.topk(queries[:1], 1502, np.concatenate([even, [4, 4]]))  # mask: duplicates
    np.testing.assert_array_equal(r[0][:-2], _brute(m, queries[0], 1500, even)[1])
    assert list(r[0][-2:]) == [-1, -1] and np.isneginf(s[0][-2:]).all()  # padded
    hits = idx.search(queries[:1], 3, exclude=[skus[int(wr[0])] for wr in [r[0]]])
    assert len(hits[0]) == 3 and hits[0][0].sku != skus[int(r[0][0])]
    with pytest.raises(ValueError):
        idx.topk(np.ones((1, 41), dtype=np.float32), 3)


@needs_native
def test_threads_share_one_scan():
    m = _unit(2000, 64, seed=9)
    scan = native.NativeScan(m)
    queries = _unit(40, 64, seed=10)
    want = [_brute(m, q, 5)[1] for q in queries]
    errors = []

    def work(offset: int) -> None:
        for i in range(offset, len(queries), 4):
            if not np.array_equal(scan.topk(queries[i], 5)[1], want[i]):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_fallback_without_compiler(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(native, "_state", "untried")
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "COMPILER", "no-such-cc-for-tests")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(native, "_cache_dirs", lambda: [tmp_path / "native"])
    m = _unit(500, 12, seed=11)
    with caplog.at_level(logging.WARNING, logger="core.index.native"):
        for _ in range(3):
            idx = ExactIndex([str(i) for i in range(500)], m, normalised=True, kernel="native")
            assert idx.kernel == "blas"
            assert idx.kernel == kernels.pick_single_kernel(idx.scan, "auto")[0]
    warnings = [r for r in caplog.records if "native top-k kernel unavailable" in r.message]
    assert len(warnings) == 1 and "no-such-cc-for-tests" in warnings[0].getMessage()
    assert not native.available()
    q = _unit(1, 12, seed=12)
    s, r = idx.topk(q, 8)
    np.testing.assert_array_equal(r[0], _brute(m, q[0], 8)[1])


@needs_native
def test_build_is_cached_and_keyed(monkeypatch, tmp_path):
    monkeypatch.setattr(native, "_state", "untried")
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_cache_dirs", lambda: [tmp_path / "native"])
    assert native.available()
    built = list((tmp_path / "native").glob("topk-*.so"))
    assert len(built) == 1 and not list((tmp_path / "native").glob(".build-*"))
    key = native.build_key(native.SOURCE.read_bytes())
    assert built[0].name == f"topk-{key}.so"
    assert native.build_key(native.SOURCE.read_bytes() + b"\n") != key
    assert native.compiler_version(native.COMPILER)  # e.g. "cc (Debian 14.2.0-19) 14.2.0"
    real_version = native.compiler_version
    monkeypatch.setattr(native, "compiler_version", lambda cc: "cc (other) 99.0")
    assert native.build_key(native.SOURCE.read_bytes()) != key
    monkeypatch.setattr(native, "compiler_version", real_version)
    monkeypatch.setattr(native, "FLAGS", (*native.FLAGS, "-DX"))
    assert native.build_key(native.SOURCE.read_bytes()) != key


@needs_native
def test_new_build_removes_stale_ones(monkeypatch, tmp_path):
    folder = tmp_path / "native"
    folder.mkdir()
    (folder / "topk-0123456789abcdef0123.so").write_bytes(b"an older build")
    (folder / "unrelated.txt").write_text("kept")
    monkeypatch.setattr(native, "_state", "untried")
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_cache_dirs", lambda: [folder])
    assert native.available()
    key = native.build_key(native.SOURCE.read_bytes())
    assert [p.name for p in folder.glob("topk-*.so")] == [f"topk-{key}.so"]
    assert (folder / "unrelated.txt").exists()


@needs_native
@pytest.mark.parametrize("extra", [("-mno-f16c",), ("-march=x86-64",)])  # no F16C, plain C
def test_portable_code_paths(monkeypatch, tmp_path, extra):
    import platform

    if platform.machine() not in {"x86_64", "AMD64"}:
        pytest.skip("x86 flags")
    monkeypatch.setattr(native, "_state", "untried")
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_cache_dirs", lambda: [tmp_path])
    monkeypatch.setattr(native, "FLAGS", (*native.FLAGS, *extra))
    m = _unit(900, 45, seed=13)
    m[:, :9] *= 1e-4  # float16 subnormals for the scalar conversion
    scan = native.NativeScan(m, m.astype(np.float16))
    assert native._lib is not None and str(tmp_path) in native._lib._name
    for q in _unit(3, 45, seed=14):
        for half in (False, True):
            s, r, _ = scan.topk(q, 20, half=half, margin=2 * half_error_bound(45))
            ws, wr = _brute(m, q, 20)
            np.testing.assert_array_equal(r, wr)
            np.testing.assert_allclose(s, ws, atol=1e-5)


def test_environment_switch_turns_it_off(monkeypatch, caplog):
    monkeypatch.setattr(native, "_state", "untried")
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setenv(native.DISABLE_ENV, "0")
    with caplog.at_level(logging.WARNING, logger="core.index.native"):
        assert not native.available()
    assert not caplog.records  # a choice, not a failure
    assert ExactIndex(["a", "b"], np.eye(2, dtype=np.float32)).kernel == "blas"


@needs_native
@pytest.mark.parametrize("storage", ["float32", "float16"])
def test_one_query_over_row_blocks_in_parallel(monkeypatch, storage):
    """With several threads allowed, a large matrix is scanned in one row block per core;
    the merged result is the exact top-k, ties included."""
    from core.index import exact

    monkeypatch.setattr(exact, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(exact.os, "cpu_count", lambda: 3)
    m = _unit(2001, 24, seed=3)
    m[1500] = m[10]  # a tie across two blocks: the lower row comes first
    idx = ExactIndex([str(i) for i in range(len(m))], m, normalised=True, storage=storage,
                     threads=None)
    assert [off for off, _ in idx._parts] == [0, 667, 1334]
    for q in (_unit(1, 24, seed=4)[0], m[10]):
        s, r = idx.topk(q[None], 15)
        ws, wr = _brute(m, q, 15)
        np.testing.assert_array_equal(r[0], wr)
        np.testing.assert_allclose(s[0], ws, atol=1e-5)
    assert list(r[0][:2]) == [10, 1500]
    idx.threads = 1  # the product's default: one core per query, the single scan
    np.testing.assert_array_equal(idx.topk(m[10][None], 15)[1], r)
