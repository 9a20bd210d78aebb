"""Whole-catalog vector reads outside the search index (the feedback data, the customers'
catalog features, the Explore map) go through ``cached_vectors``: the same skus and vectors as
the per-vector documents, packed on the first read, then served by the disk cache or the
snapshot without reading the documents again."""

from __future__ import annotations

import numpy as np
import pytest

from core.customers.service import Recommender
from core.explore import MapParams, build_map, map_memo, place, suggest_clusters
from core.feedback.data import catalog_data
from core.index.vectorcache import VectorCache, cached_vectors
from core.storage import Item
from core.storage.vectorsnapshot import snapshot_headers

MODEL = "toy_encoder"
COLOURS = ("red", "blue", "green")
PATTERNS = ("solid", "striped")


def _catalog(repo, n: int = 36, dim: int = 8) -> dict[str, np.ndarray]:
    """n tees differing in colour and pattern, their vectors (not unit-norm) written in a
    shuffled order; returns sku -> vector."""
    rng = np.random.default_rng(7)
    skus = [f"T{i:03d}" for i in range(n)]
    repo.upsert_items([
        Item(sku=s, image_path=f"images/{s}.jpg", hash=f"h{s}", category="tee",
             name=f"tee {i}", attrs={"color": COLOURS[i % 3], "pattern": PATTERNS[i // 3 % 2]})
        for i, s in enumerate(skus)])
    vectors = (rng.standard_normal((n, dim)) * 3).astype(np.float32)
    order = rng.permutation(n)
    repo.put_vectors(MODEL, [skus[i] for i in order], vectors[order])
    return dict(zip(skus, vectors, strict=True))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _no_whole_catalog_documents(monkeypatch, repo) -> None:
    """From here on, reading every vector document of a model fails (subsets still read)."""
    real = repo.vectors

    def vectors(model_id, *args, skus=None, **kwargs):
        if skus is None:
            raise AssertionError(f"read every vector document of {model_id!r}")
        return real(model_id, *args, skus=skus, **kwargs)

    monkeypatch.setattr(repo, "vectors", vectors)


def _packed_and_cached(repo, settings, n: int) -> None:
    """The first read packed the snapshot and filled the disk cache under settings.cache_dir."""
    [head] = snapshot_headers(repo, MODEL)
    assert (head["count"], head["vectors_version"]) == (n, repo.vectors_version(MODEL))
    assert cached_vectors(repo, MODEL, VectorCache(settings.cache_dir))[2] == "disk"


def test_feedback_data_reads_the_cached_vectors(repo, settings, monkeypatch, tmp_path):
    truth = _catalog(repo)
    doc_skus, doc_matrix = repo.vectors(MODEL)
    first = catalog_data(repo, MODEL, stored_pairs=False, cache_dir=settings.cache_dir)
    assert first.skus == doc_skus == sorted(truth)  # the order training relies on
    np.testing.assert_allclose(first.vectors, np.stack([_unit(v) for v in doc_matrix]),
                               rtol=1e-6, atol=1e-7)
    assert first.pairs
    _packed_and_cached(repo, settings, len(truth))

    _no_whole_catalog_documents(monkeypatch, repo)
    for cache_dir in (settings.cache_dir, None, tmp_path / "another-host"):
        again = catalog_data(repo, MODEL, stored_pairs=False, cache_dir=cache_dir)
        assert again.skus == first.skus
        np.testing.assert_array_equal(again.vectors, first.vectors)
        assert [p.pair_id for p in again.pairs] == [p.pair_id for p in first.pairs]
    assert again.vectors.flags.writeable  # a copy of the read-only memory-mapped matrix


class _NoIndexMatrix:
    """An index without an exact matrix (FAISS): the features read the vectors themselves."""

    def get(self, repo, model_id):
        return object()


def test_customer_features_read_the_cached_vectors(repo, settings, monkeypatch):
    truth = _catalog(repo)
    feats = Recommender(settings, model_id=MODEL, indexes=_NoIndexMatrix()).features(repo)
    rows = feats.catalog.row
    assert sorted(rows) == sorted(truth)
    for sku, vector in truth.items():
        np.testing.assert_allclose(feats.vectors[rows[sku]], _unit(vector), rtol=1e-6,
                                   atol=1e-7)
    _packed_and_cached(repo, settings, len(truth))

    _no_whole_catalog_documents(monkeypatch, repo)
    again = Recommender(settings, model_id=MODEL, indexes=_NoIndexMatrix()).features(repo)
    assert again.catalog.row == rows
    np.testing.assert_array_equal(again.vectors, feats.vectors)
    assert again.vectors.flags.writeable


def test_explore_map_reads_the_cached_vectors(repo, settings, monkeypatch):
    truth = _catalog(repo)
    params = MapParams("pca", clusters=3)
    emap = build_map(repo, MODEL, params, cache_dir=settings.cache_dir)
    assert not emap.cached and emap.n == len(truth)
    for sku, row in zip(emap.table["sku"], emap.unit_vectors, strict=True):
        np.testing.assert_allclose(row, _unit(truth[sku]), rtol=1e-6, atol=1e-7)
    _packed_and_cached(repo, settings, len(truth))

    _no_whole_catalog_documents(monkeypatch, repo)
    again = build_map(repo, MODEL, params, use_cache=False, cache_dir=settings.cache_dir)
    assert again.table["sku"].tolist() == emap.table["sku"].tolist()
    np.testing.assert_allclose(again.coords, emap.coords, atol=1e-5)
    np.testing.assert_array_equal(again.unit_vectors, emap.unit_vectors)
    # a map served from the map cache reads its vectors only when a photo is placed on it
    cached = build_map(repo, MODEL, params, cache_dir=settings.cache_dir)
    assert cached.cached and cached.unit_vectors is None
    placed = place(cached, truth["T005"], repo, k=3)
    assert placed.neighbours[0] == emap.table["sku"].tolist().index("T005")
    np.testing.assert_array_equal(cached.unit_vectors, emap.unit_vectors)
    # the page's memo and the k suggestion read the same way; a sample still reads a subset
    other = map_memo(settings).get(repo, MODEL, MapParams("pca", clusters=2))
    assert not other.cached and other.n == len(truth)
    assert 2 <= suggest_clusters(repo, MODEL, k_max=4, use_cache=False)["k"] <= 4
    sampled = build_map(repo, MODEL, MapParams("pca", clusters=2, sample=12))
    assert sampled.sampled_from == len(truth) and sampled.n == 12


def test_first_read_without_a_disk_cache_packs_the_snapshot(repo, monkeypatch):
    truth = _catalog(repo, n=12)
    first = catalog_data(repo, MODEL, stored_pairs=False)  # no cache_dir: snapshot level
    assert [h["count"] for h in snapshot_headers(repo, MODEL)] == [12]
    _no_whole_catalog_documents(monkeypatch, repo)
    with pytest.raises(AssertionError, match="every vector document"):
        repo.vectors(MODEL)
    again = catalog_data(repo, MODEL, stored_pairs=False)
    assert again.skus == first.skus == sorted(truth)
    np.testing.assert_array_equal(again.vectors, first.vectors)
