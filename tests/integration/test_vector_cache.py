"""Vectors read in pages into one array, cached on disk per vectors version, memory-mapped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.index import IndexManager
from core.index.vectorcache import VectorCache, cached_vectors
from tests.helpers import put_random_vectors


def _row_by_row(repo, model):
    """What the loader gave before: every document's vector stacked, sorted by sku."""
    docs = sorted(repo.vectors_col.find({"model_id": model}), key=lambda d: d["_id"])
    return [d["sku"] for d in docs], np.stack(
        [np.frombuffer(d["v"], dtype=np.float32) for d in docs])


def test_paged_load_equals_the_documents_in_sku_order(repo):
    skus, vecs = put_random_vectors(repo)
    put_random_vectors(repo, n=5, d=4, seed=1, model="m")  # a model id that prefixes the other's
    for page in (1, 4, 23, 5000):
        got_skus, got = repo.vectors("m1", page_size=page)
        assert got_skus == skus and got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, vecs)
    old_skus, old = _row_by_row(repo, "m1")
    assert old_skus == skus
    np.testing.assert_array_equal(repo.vectors("m1")[1], old)
    assert repo.vector_skus("m1", page_size=4) == skus and repo.vector_count("m1") == 23
    assert repo.vectors("nothing") == ([], pytest.approx(np.zeros((0, 0))))


def test_load_of_given_skus_keeps_sku_order_and_skips_unknown(repo):
    skus, vecs = put_random_vectors(repo)
    wanted = [skus[9], skus[2], "NOPE", skus[20], skus[2]]
    got_skus, got = repo.vectors("m1", page_size=2, skus=wanted)
    assert got_skus == sorted({skus[9], skus[2], skus[20]})
    np.testing.assert_array_equal(got, vecs[[2, 9, 20]])
    assert repo.vectors("m1", skus=["NOPE"])[0] == []


def test_cache_is_written_whole_and_read_memory_mapped(repo, settings):
    skus, vecs = put_random_vectors(repo)
    cache = VectorCache(settings.cache_dir)
    got_skus, got, source = cached_vectors(repo, "m1", cache)
    assert source == "database" and got_skus == skus
    folders = [p.name for p in cache.root.iterdir()]
    assert folders == [f"m1__n23_e{repo.vectors_version('m1')}"]  # no temporary left behind
    again_skus, again, source = cached_vectors(repo, "m1", cache)
    assert source == "disk" and again_skus == skus
    assert isinstance(again, np.memmap) and not again.flags.writeable
    np.testing.assert_array_equal(again, vecs)
    key = json.loads((cache.root / folders[0] / "key.json").read_text())
    assert key["count"] == 23 and key["dim"] == 8 and key["model_id"] == "m1"


def test_new_vectors_invalidate_the_cache(repo, settings):
    skus, vecs = put_random_vectors(repo)
    cache = VectorCache(settings.cache_dir)
    cached_vectors(repo, "m1", cache)
    new = vecs[::-1].copy()  # re-embedding: same skus, same count, other vectors
    repo.put_vectors("m1", skus, new)
    got_skus, got, source = cached_vectors(repo, "m1", cache)
    assert source == "database" and got_skus == skus
    np.testing.assert_array_equal(got, new)
    assert len(list(cache.root.iterdir())) == 1  # the stale entry is gone
    np.testing.assert_array_equal(cached_vectors(repo, "m1", cache)[1], new)


def test_interrupted_or_damaged_entries_are_not_read(repo, settings):
    skus, _ = put_random_vectors(repo)
    cache = VectorCache(settings.cache_dir)
    folder = cache.path("m1", 23, repo.vectors_version("m1"))
    folder.mkdir(parents=True)
    np.save(folder / "vectors.npy", np.zeros((23, 8), np.float32))  # no skus, no key
    assert cache.load("m1", 23, repo.vectors_version("m1")) is None
    (folder / "skus.json").write_text(json.dumps(skus[:5]))
    (folder / "key.json").write_text(json.dumps(cache.key("m1", 23,
                                                          repo.vectors_version("m1"))))
    assert cache.load("m1", 23, repo.vectors_version("m1")) is None  # 5 skus for 23 rows
    assert cached_vectors(repo, "m1", cache)[2] == "database"
    assert cache.load("m1", 23, repo.vectors_version("m1")) is not None  # rewritten whole


def test_index_kinds_and_filters_search_alike_from_the_cache(repo, settings, monkeypatch):
    skus, vecs = put_random_vectors(repo, n=400, d=16, seed=2)
    first = IndexManager(settings, kind="exact").get(repo, "m1")  # reads MongoDB once
    modes = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **kw: modes.append(kw.get("mmap_mode"))
                        or real_load(*a, **kw))
    restarted = IndexManager(settings, kind="exact")  # its index files, memory-mapped
    again = restarted.get(repo, "m1")
    assert restarted.last_source == "disk" and modes == ["r"]
    assert again.search(vecs[7:8], 1)[0][0].sku == skus[7]

    def no_read(*args, **kwargs):
        raise AssertionError("vectors read from MongoDB although they are cached")

    monkeypatch.setattr(repo, "vectors", no_read)
    for kind in ("ivf", "hnsw", "exact"):  # each kind's index file replaces the last one
        manager = IndexManager(settings, kind=kind)
        index = manager.get(repo, "m1")
        assert manager.last_source == "built" and index.kind == kind and index.skus == skus
        hit = index.search(vecs[7:8], 1)[0][0]
        assert hit.sku == skus[7] and hit.score == pytest.approx(1.0, abs=1e-5)
        subset = skus[100:140]
        found = index.search(vecs[3:4], 5, subset=subset)[0]
        assert [h.sku for h in found] == [h.sku for h in first.search(vecs[3:4], 5,
                                                                        subset=subset)[0]]
