"""The index follows the catalog: built from MongoDB vectors, cached on disk, rebuilt on change."""

from __future__ import annotations

import numpy as np
import pytest

from core.index import ExactIndex, IndexManager, NoVectors
from core.storage import Item


def _vectors(skus, d=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((len(skus), d)).astype(np.float32)


def test_index_built_cached_and_rebuilt_after_ingest(repo, settings, small_catalog):
    items = small_catalog(8)
    skus = [it.sku for it in items]
    vecs = _vectors(skus)
    repo.put_vectors("m1", skus, vecs)

    manager = IndexManager(settings)
    index = manager.get(repo, "m1")
    assert manager.last_source == "built" and isinstance(index, ExactIndex)
    assert sorted(index.skus) == sorted(skus)
    assert manager.get(repo, "m1") is index and manager.last_source == "memory"
    hit = index.search(vecs[3:4], 1)[0][0]
    assert hit.sku == skus[3] and hit.score == pytest.approx(1.0, abs=1e-5)

    restarted = IndexManager(settings)  # a new process: loads from the disk cache
    again = restarted.get(repo, "m1")
    assert restarted.last_source == "disk" and again.skus == index.skus
    np.testing.assert_allclose(again.matrix.numpy(), index.matrix.numpy())

    new = Item(sku="NEW1", image_path="images/new.jpg", hash="hash-new", category="tee")
    assert repo.upsert_items([new]).added == 1  # bumps the catalog version
    repo.put_vectors("m1", ["NEW1"], _vectors(["NEW1"], seed=5))
    rebuilt = manager.get(repo, "m1")
    assert manager.last_source == "built" and "NEW1" in rebuilt.skus and len(rebuilt) == 9
    folders = list((settings.cache_dir / "index").glob("m1__*"))
    assert len(folders) == 1 and f"_v{repo.catalog_version()}_n9_" in folders[0].name


def test_version_bump_alone_rebuilds(repo, settings, small_catalog):
    items = small_catalog(4)
    repo.put_vectors("m1", [it.sku for it in items], _vectors(items))
    manager = IndexManager(settings)
    first = manager.get(repo, "m1")
    repo.bump_catalog_version()
    assert manager.get(repo, "m1") is not first and manager.last_source == "built"


def test_models_are_separate_and_missing_vectors_explained(repo, settings, small_catalog):
    items = small_catalog(4)
    skus = [it.sku for it in items]
    repo.put_vectors("a", skus, _vectors(skus, d=8))
    repo.put_vectors("b+mask", skus[:2], _vectors(skus[:2], d=4))
    manager = IndexManager(settings)
    assert manager.get(repo, "a").dim == 8
    assert manager.get(repo, "b+mask").dim == 4 and len(manager.get(repo, "b+mask")) == 2
    with pytest.raises(NoVectors, match="embed --backbone resnet50"):
        manager.get(repo, "resnet50+mask")


def test_unreadable_cache_is_rebuilt(repo, settings, small_catalog):
    items = small_catalog(4)
    repo.put_vectors("m1", [it.sku for it in items], _vectors(items))
    IndexManager(settings).get(repo, "m1")
    folder = next((settings.cache_dir / "index").glob("m1__*"))
    (folder / "matrix.npy").write_bytes(b"garbage")
    manager = IndexManager(settings)
    assert len(manager.get(repo, "m1")) == 4 and manager.last_source == "built"


def test_approximate_index_cached_with_its_tuning(repo, settings):
    from core.index import AnnIndex
    from core.storage import Item

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((20, 16)).astype(np.float32)
    vecs = centres[rng.integers(0, 20, 3000)] + 0.3 * rng.standard_normal((3000, 16)).astype(
        np.float32)
    skus = [f"S{i:05d}" for i in range(3000)]
    repo.upsert_items([Item(sku=s, image_path=f"images/{s}.jpg", hash=s) for s in skus])
    repo.put_vectors("m1", skus, vecs)
    built = IndexManager(settings, kind="ivf").get(repo, "m1")
    assert isinstance(built, AnnIndex) and built.kind == "ivf"
    loaded = IndexManager(settings, kind="ivf")
    again = loaded.get(repo, "m1")
    assert loaded.last_source == "disk" and again.breadth == built.breadth
    q = vecs[:5]
    np.testing.assert_array_equal(again.topk(q, 5)[1], built.topk(q, 5)[1])
    exact = IndexManager(settings, kind="exact").get(repo, "m1")  # other kind: its own entry
    assert isinstance(exact, ExactIndex)


def test_reembedding_same_count_rebuilds_memory_and_disk(repo, settings, small_catalog):
    # A new encoder rewrites every vector of the same skus: the count and catalog version stay.
    items = small_catalog(6)
    skus = [it.sku for it in items]
    old = _vectors(skus, seed=1)
    repo.put_vectors("m1", skus, old)
    manager = IndexManager(settings)
    assert manager.get(repo, "m1").search(old[0:1], 1)[0][0].sku == skus[0]
    version = repo.catalog_version()
    new = old[::-1].copy()  # sku i now carries the old vector of sku 5 - i
    repo.put_vectors("m1", skus, new)
    assert repo.catalog_version() == version and repo.vector_count("m1") == 6
    # the live index is rebuilt; a restarted process loads that new build from disk
    for source, where in ((manager, "built"), (IndexManager(settings), "disk")):
        hits = source.get(repo, "m1").search(old[0:1], 2)[0]
        assert source.last_source == where and hits[0].sku == skus[5]
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    folders = list((settings.cache_dir / "index").glob("m1__*"))
    assert len(folders) == 1 and f"_e{repo.vectors_version('m1')}_" in folders[0].name
    repo.delete_vectors("m1", [skus[5]])
    fresh = _vectors(["x"], seed=9)
    repo.put_vectors("m1", [skus[5]], fresh)  # delete + re-add: the count is 6 again
    index = manager.get(repo, "m1")
    assert manager.last_source == "built"
    assert index.search(fresh, 1)[0][0].sku == skus[5]


def test_index_kind_setting_reaches_the_search_engine(repo, settings, monkeypatch):
    from types import SimpleNamespace

    from core.config import SettingsError, load_settings
    from core.index import AnnIndex
    from core.search.pipeline import SearchEngine

    skus = [f"S{i:04d}" for i in range(300)]
    repo.upsert_items([Item(sku=s, image_path=f"images/{s}.jpg", hash=s) for s in skus])
    vecs = _vectors(skus, seed=2)
    repo.put_vectors("m1", skus, vecs)
    monkeypatch.setenv("INDEX_KIND", "hnsw")
    cfg = load_settings(env_file=settings.data_dir / "none.env", MONGO_URI=settings.mongo_uri,
                        DB_NAME=settings.db_name, DATA_DIR=str(settings.data_dir), DEVICE="cpu")
    engine = SearchEngine(cfg, embedder=SimpleNamespace(model_id="m1"))
    index = engine.index(repo)
    assert isinstance(index, AnnIndex) and index.kind == "hnsw"
    assert index.search(vecs[7:8], 1)[0][0].sku == skus[7]
    assert isinstance(SearchEngine(settings, embedder=engine._embedder).index(repo), ExactIndex)
    assert IndexManager(cfg, "exact").kind == "exact"  # an explicit kind wins
    monkeypatch.setenv("INDEX_KIND", "flat")
    with pytest.raises(SettingsError, match="INDEX_KIND='flat'"):
        load_settings(env_file=settings.data_dir / "none.env")
    with pytest.raises(SettingsError, match="use one of auto, exact, hnsw, ivf, mongo"):
        IndexManager(settings.with_(index_kind="flat"))


def test_candidates_come_from_the_id_projection(repo, settings, monkeypatch):
    from types import SimpleNamespace

    from core.search.pipeline import SearchEngine

    cats = ["tee", "dress", "bag"]
    repo.upsert_items([Item(sku=f"S{i:03d}", image_path=f"images/{i}.jpg", hash=f"h{i}",
                            category=cats[i % 3], attrs={"color": "red" if i % 2 else "blue"})
                       for i in range(30)])
    monkeypatch.setattr(repo, "counts_by", None)  # the old workaround is not used any more
    engine = SearchEngine(settings, embedder=SimpleNamespace(model_id="m1"))
    assert engine.candidates(repo, {}) is None
    reds = engine.candidates(repo, {"category": ["tee", "bag"], "color": "red"})
    assert reds == [f"S{i:03d}" for i in range(30) if i % 3 != 1 and i % 2]
    repo.upsert_items([Item(sku="S999", image_path="images/n.jpg", hash="hn", category="tee",
                            attrs={"color": "red"})])  # new catalog version: not served stale
    assert engine.candidates(repo, {"category": ["tee", "bag"], "color": "red"})[-1] == "S999"
