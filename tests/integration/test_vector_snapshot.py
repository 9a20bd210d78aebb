"""The packed vector snapshot in MongoDB: written after a load from the documents, read back
exactly, never read stale, never mixed between models, ignored when incomplete."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
from pymongo.errors import PyMongoError

from core.index import IndexManager
from core.index.vectorcache import VectorCache, cached_vectors
from core.storage import vectorsnapshot as vs
from tests.helpers import put_random_vectors


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """5 rows per block, so 23 vectors span 5 blocks with a short last one."""
    monkeypatch.setattr(vs, "MAX_BLOCK_ROWS", 5)


def _snapshot(repo, model):
    return vs.load_snapshot(repo, model, repo.vector_count(model), repo.vectors_version(model))


def _block_ids(repo, model):
    return sorted(f._id for f in vs._bucket(repo).find({"metadata.model_id": model}))


def _no_document_reads(monkeypatch, repo):
    def no_read(*args, **kwargs):
        raise AssertionError("vectors read one document at a time although packed")

    monkeypatch.setattr(repo, "vectors", no_read)


def test_written_after_a_document_load_and_read_back_exactly(repo, monkeypatch):
    skus, vecs = put_random_vectors(repo)
    assert _snapshot(repo, "m1") is None
    got_skus, got, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == skus
    [head] = vs.snapshot_headers(repo, "m1")
    assert (head["count"], head["dim"], head["blocks"], head["block_rows"]) == (23, 8, 5, 5)
    assert head["vectors_version"] == repo.vectors_version("m1")
    assert len(_block_ids(repo, "m1")) == 5
    _no_document_reads(monkeypatch, repo)
    again_skus, again, source = cached_vectors(repo, "m1", None)
    assert source == "snapshot" and again_skus == skus
    assert again.dtype == np.float32 and again.flags.c_contiguous and again.flags.writeable
    assert again.tobytes() == vecs.tobytes()  # float32 exact, bit for bit


def test_levels_disk_cache_then_snapshot_then_documents(repo, settings, tmp_path, monkeypatch):
    skus, vecs = put_random_vectors(repo, n=40, d=6, seed=3)
    first = IndexManager(settings, kind="exact")
    first.get(repo, "m1")  # documents -> snapshot + disk cache
    assert first.last_source == "built" and vs.snapshot_headers(repo, "m1")
    _no_document_reads(monkeypatch, repo)
    assert cached_vectors(repo, "m1", VectorCache(settings.cache_dir))[2] == "disk"
    other_host = VectorCache(tmp_path / "other-host")  # a new machine: no disk cache
    got_skus, got, source = cached_vectors(repo, "m1", other_host)
    assert source == "snapshot" and got_skus == skus
    np.testing.assert_array_equal(got, vecs)
    assert cached_vectors(repo, "m1", other_host)[2] == "disk"  # and now cached on disk
    third_host = dataclasses.replace(settings, data_dir=tmp_path / "third-host")
    manager = IndexManager(third_host, kind="exact")
    index = manager.get(repo, "m1")
    assert manager.last_source == "built" and index.skus == skus
    assert index.search(vecs[11:12], 1)[0][0].sku == skus[11]


def test_a_snapshot_without_its_header_is_ignored(repo, caplog):
    skus, vecs = put_random_vectors(repo)
    cached_vectors(repo, "m1", None)
    repo.db[vs.HEADERS].delete_many({})  # as if the writer died before its last write
    assert _snapshot(repo, "m1") is None
    got_skus, got, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == skus
    np.testing.assert_array_equal(got, vecs)
    assert len(vs.snapshot_headers(repo, "m1")) == 1 and len(_block_ids(repo, "m1")) == 5
    # a header whose blocks are not all there is ignored too (with a warning)
    vs._bucket(repo).delete(_block_ids(repo, "m1")[2])
    with caplog.at_level(logging.WARNING, logger=vs.__name__):
        assert _snapshot(repo, "m1") is None
    assert "a block is missing" in caplog.text
    assert cached_vectors(repo, "m1", None)[2] == "database"
    assert cached_vectors(repo, "m1", None)[2] == "snapshot"  # rewritten whole


def test_put_vectors_makes_the_old_snapshot_unreadable(repo, monkeypatch):
    skus, vecs = put_random_vectors(repo)
    cached_vectors(repo, "m1", None)
    old_version = repo.vectors_version("m1")
    new = vecs[::-1].copy()  # re-embedding: same skus, same count, other vectors
    repo.put_vectors("m1", skus, new)
    assert repo.vectors_version("m1") > old_version
    assert _snapshot(repo, "m1") is None
    assert vs.load_snapshot(repo, "m1", 23, old_version) is not None  # still there, unused
    got_skus, got, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == skus
    np.testing.assert_array_equal(got, new)
    [head] = vs.snapshot_headers(repo, "m1")  # the old one went once the new was complete
    assert head["vectors_version"] == repo.vectors_version("m1")
    assert len(_block_ids(repo, "m1")) == 5
    assert vs.load_snapshot(repo, "m1", 23, old_version) is None
    _no_document_reads(monkeypatch, repo)
    np.testing.assert_array_equal(cached_vectors(repo, "m1", None)[1], new)


def test_delete_vectors_makes_the_old_snapshot_unreadable(repo):
    skus, vecs = put_random_vectors(repo)
    cached_vectors(repo, "m1", None)
    assert repo.delete_vectors("m1", skus[:3]) == 3
    assert _snapshot(repo, "m1") is None
    got_skus, got, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == skus[3:]
    np.testing.assert_array_equal(got, vecs[3:])
    assert cached_vectors(repo, "m1", None)[2] == "snapshot"
    # new vectors back to the same count: a new version, so the snapshot of 20 + 3 deleted
    # and re-added never passes for the current one
    repo.put_vectors("m1", skus[:3], vecs[:3] * 2)
    got_skus, got, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == skus
    np.testing.assert_array_equal(got[:3], vecs[:3] * 2)
    repo.delete_vectors("m1")  # all of them: the snapshot goes as well
    assert vs.snapshot_headers(repo, "m1") == [] and _block_ids(repo, "m1") == []


def test_a_write_during_the_load_is_not_packed(repo, monkeypatch):
    skus, vecs = put_random_vectors(repo)
    real = repo.vectors

    def racing_load(model_id, *args, **kwargs):
        out = real(model_id, *args, **kwargs)
        repo.put_vectors(model_id, [skus[0]], vecs[:1] + 1)  # lands after the read
        return out

    monkeypatch.setattr(repo, "vectors", racing_load)
    assert cached_vectors(repo, "m1", None)[2] == "database"
    assert vs.snapshot_headers(repo, "m1") == []  # what was read is no version's content
    monkeypatch.setattr(repo, "vectors", real)
    got_skus, got, _ = cached_vectors(repo, "m1", None)
    np.testing.assert_array_equal(got[0], vecs[0] + 1)


def test_models_do_not_share_blocks(repo, monkeypatch):
    skus1, vecs1 = put_random_vectors(repo, model="m1")
    # "m" prefixes the other id
    skus2, vecs2 = put_random_vectors(repo, n=12, d=4, seed=1, model="m")
    for model in ("m1", "m"):
        cached_vectors(repo, model, None)
    assert len(_block_ids(repo, "m1")) == 5 and len(_block_ids(repo, "m")) == 3
    _no_document_reads(monkeypatch, repo)
    got = {model: cached_vectors(repo, model, None) for model in ("m1", "m")}
    assert got["m1"][2] == got["m"][2] == "snapshot"
    assert got["m1"][0] == skus1 and got["m"][0] == skus2
    np.testing.assert_array_equal(got["m1"][1], vecs1)
    np.testing.assert_array_equal(got["m"][1], vecs2)
    vs.drop_snapshots(repo, "m")
    assert _block_ids(repo, "m") == [] and len(_block_ids(repo, "m1")) == 5
    assert _snapshot(repo, "m") is None and _snapshot(repo, "m1") is not None


def test_a_failed_write_changes_nothing(repo, monkeypatch, caplog):
    skus, vecs = put_random_vectors(repo)
    calls = []

    def failing_put(self, data, **kwargs):
        calls.append(kwargs["_id"])
        if len(calls) == 3:
            raise PyMongoError("disk full")
        return real_put(self, data, **kwargs)

    real_put = vs.gridfs.GridFS.put
    monkeypatch.setattr(vs.gridfs.GridFS, "put", failing_put)
    with caplog.at_level(logging.WARNING, logger=vs.__name__):
        got_skus, got, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == skus
    np.testing.assert_array_equal(got, vecs)
    assert "could not write the vector snapshot" in caplog.text and "disk full" in caplog.text
    assert vs.snapshot_headers(repo, "m1") == [] and _snapshot(repo, "m1") is None
    assert _block_ids(repo, "m1") == []  # the blocks it had written were removed
    monkeypatch.setattr(vs.gridfs.GridFS, "put", real_put)
    assert cached_vectors(repo, "m1", None)[2] == "database"
    assert len(_block_ids(repo, "m1")) == 5
    assert cached_vectors(repo, "m1", None)[2] == "snapshot"


def test_skus_with_a_newline_are_not_packed(repo):
    repo.put_vectors("m1", ["A", "B\nC"], np.ones((2, 3), np.float32))
    got_skus, _, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == ["A", "B\nC"]
    assert vs.snapshot_headers(repo, "m1") == [] and _block_ids(repo, "m1") == []


def test_block_size_follows_the_dimension(monkeypatch):
    monkeypatch.setattr(vs, "MAX_BLOCK_ROWS", 8192)
    assert vs.block_rows(128) == 8192 and vs.block_rows(512) == 2048
    assert vs.block_rows(4096) * 4096 * 4 <= vs.BLOCK_BYTES


def test_drop_all_leaves_no_snapshot(repo):
    put_random_vectors(repo)
    cached_vectors(repo, "m1", None)
    repo.drop_all()
    assert vs.snapshot_headers(repo, "m1") == [] and _block_ids(repo, "m1") == []
    skus, vecs = put_random_vectors(repo, seed=4)
    got_skus, got, source = cached_vectors(repo, "m1", None)
    assert source == "database" and got_skus == skus
    np.testing.assert_array_equal(got, vecs)
