"""The repository against the real embedded server (through pymongo)."""

import numpy as np
import pytest

from core.storage import FilterError, Item, Range, Store


def _item(i: int, **kw) -> Item:
    base = {"sku": f"S{i:04d}", "image_path": f"images/{i}.jpg", "hash": f"h{i}",
                "category": ["dress", "tee", "skirt"][i % 3],
                "attrs": {"color": ["red", "navy"][i % 2], "season": "summer"}, "price": 10.0 + i}
    base.update(kw)
    return Item(**base)


def test_upsert_is_unique_by_sku_and_hash(repo):
    first = repo.upsert_items([_item(i) for i in range(5)])
    assert (first.added, first.duplicates) == (5, 0)
    again = repo.upsert_items([_item(1), _item(9, hash="h2"), _item(10)])
    assert (again.added, again.duplicates, again.added_skus) == (1, 2, ["S0010"])
    assert repo.count_items() == 6
    assert repo.get_item("S0001").attrs == {"color": "navy", "season": "summer"}
    assert repo.get_item("nope") is None


def test_catalog_version_moves_only_when_items_are_added(repo):
    v0 = repo.catalog_version()
    repo.upsert_items([_item(1)])
    v1 = repo.catalog_version()
    repo.upsert_items([_item(1)])
    assert v1 == v0 + 1 and repo.catalog_version() == v1


def test_filters_counts_and_paged_reads(repo):
    repo.upsert_items([_item(i) for i in range(25)])
    assert repo.count_items({"category": "dress"}) == 9
    assert repo.count_items({"color": "red", "price": Range(max=20)}) == 6
    assert [it.sku for it in repo.iter_items({"category": "tee"}, page_size=4)] == [
        f"S{i:04d}" for i in range(1, 25, 3)]
    assert repo.counts_by("category") == {"dress": 9, "tee": 8, "skirt": 8}
    assert repo.distinct_values("color") == ["navy", "red"]
    assert [it.sku for it in repo.get_items(["S0003", "missing", "S0001"])] == ["S0003", "S0001"]
    top = repo.find_items({"category": ["tee", "skirt"]}, sort="price", descending=True, limit=2)
    assert [it.sku for it in top] == ["S0023", "S0022"]
    assert len(repo.sample_items(5)) == 5
    with pytest.raises(FilterError):
        repo.count_items({"color": {"$ne": "red"}})


def test_vectors_roundtrip_per_model(repo):
    repo.upsert_items([_item(i) for i in range(7)])
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 16)).astype(np.float32)
    repo.put_vectors("m_a", ["S0000", "S0002", "S0004", "S0006"], a)
    repo.put_vectors("m_b", ["S0001"], rng.normal(size=(1, 8)))
    skus, mat = repo.vectors("m_a", page_size=3)
    assert skus == ["S0000", "S0002", "S0004", "S0006"]
    np.testing.assert_array_equal(mat, a)
    assert repo.skus_without_vectors("m_a") == ["S0001", "S0003", "S0005"]
    assert repo.model_ids() == ["m_a", "m_b"] and repo.vector_count("m_b") == 1
    repo.put_vectors("m_a", ["S0000"], np.ones((1, 16)))  # re-embedding replaces
    assert repo.vector_count("m_a") == 4
    np.testing.assert_array_equal(repo.vectors("m_a")[1][0], np.ones(16, dtype=np.float32))
    with pytest.raises(ValueError):
        repo.put_vectors("m_a", ["S0000"], np.ones((2, 16)))


def test_documents_and_stores(repo):
    repo.put_docs("stores", [Store("st1", "Rivoli", "Paris", 48.86, 2.34).to_doc()])
    repo.put_docs("outfits", [{"_id": "o1", "items": ["a", "b"], "compatible": True,
                               "split": "test"}])
    repo.put_docs("outfits", [{"_id": "o1", "items": ["a"], "compatible": False, "split": "test"}])
    assert repo.stores()[0].city == "Paris"
    assert repo.count_docs("outfits") == 1 and repo.get_doc("outfits", "o1")["items"] == ["a"]
    assert repo.find_docs("outfits", {"split": "test"})[0]["compatible"] is False
    with pytest.raises(ValueError):
        repo.find_docs("not_a_kind")


def test_replace_docs_keeps_exactly_the_new_set(repo):
    repo.put_docs("purchases", [{"_id": f"p{i}", "sku": f"S{i}"} for i in range(1500)])
    gone = repo.replace_docs("purchases", [{"_id": "p1", "sku": "X"}, {"_id": "new", "sku": "Y"}])
    assert gone == 1499 and repo.count_docs("purchases") == 2
    assert repo.get_doc("purchases", "p1")["sku"] == "X" and repo.get_doc("purchases", "p7") is None
    assert repo.replace_docs("purchases", []) == 2 and repo.count_docs("purchases") == 0


def test_vectors_version_follows_writes_and_deletes(repo):
    repo.upsert_items([_item(i) for i in range(4)])
    skus = ["S0000", "S0001", "S0002"]
    assert repo.vectors_version("m_a") == 0
    repo.put_vectors("m_a", skus, np.zeros((3, 4), dtype=np.float32))
    first = repo.vectors_version("m_a")
    repo.put_vectors("m_a", skus, np.ones((3, 4), dtype=np.float32))  # same count, new vectors
    assert repo.vector_count("m_a") == 3 and repo.vectors_version("m_a") > first
    assert repo.vectors_version("m_b") == 0  # per model
    before = repo.vectors_version("m_a")
    assert repo.delete_vectors("m_a", ["S0001", "missing"]) == 1
    assert repo.vector_count("m_a") == 2 and repo.vectors_version("m_a") > before
    before = repo.vectors_version("m_a")
    assert repo.delete_vectors("m_a", ["missing"]) == 0  # nothing deleted: no bump
    assert repo.vectors_version("m_a") == before
    assert repo.delete_vectors("m_a") == 2 and repo.vector_count("m_a") == 0
    assert repo.vectors_version("m_a") > before


def test_skus_matching_reads_ids_only_in_pages(repo, monkeypatch):
    repo.upsert_items([_item(i) for i in range(25)])
    tees = [f"S{i:04d}" for i in range(1, 25, 3)]
    for page_size in (3, 4, 8, 100):  # page boundaries, an exact multiple, a single page
        assert repo.skus_matching({"category": "tee"}, page_size=page_size) == tees
    red_cheap = repo.skus_matching({"color": "red", "price": Range(max=20),
                                    "category": ["dress", "skirt"]})
    assert red_cheap == [it.sku for it in repo.iter_items(
        {"color": "red", "price": Range(max=20), "category": ["dress", "skirt"]})]
    assert red_cheap and all(repo.get_item(s).attrs["color"] == "red" for s in red_cheap)
    assert repo.skus_matching({"sku": ["S0003", "S0001", "nope"]}) == ["S0001", "S0003"]
    assert repo.skus_matching(page_size=7) == [f"S{i:04d}" for i in range(25)] == repo.skus()
    assert repo.skus_matching({"category": "coat"}) == []
    with pytest.raises(FilterError):
        repo.skus_matching({"color": {"$gt": ""}})
    projections = []
    real_find = repo.items.find

    def spy(*args, **kwargs):
        projections.append(args[1] if len(args) > 1 else kwargs.get("projection"))
        return real_find(*args, **kwargs)

    monkeypatch.setattr(repo.items, "find", spy)
    repo.skus_matching({"category": "tee"}, page_size=5)
    assert projections and all(p == {"_id": 1} for p in projections)
