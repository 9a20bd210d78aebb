"""The embedding job against the embedded MongoDB: fills vectors, resumes, leaves others alone."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from core.models.embed import Embedder, embed_catalog
from core.models.studio import STUDIO_FILE, new_encoder, save_checkpoint
from core.storage.records import Item

TINY = (8, 16, 16, 32)


def _catalog(repo, settings, n: int = 10) -> list[str]:
    rng = np.random.default_rng(0)
    img_dir = settings.data_dir / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        path = img_dir / f"{i:03d}.jpg"
        Image.fromarray(rng.integers(0, 255, (48, 40, 3), dtype=np.uint8)).save(path)
        items.append(Item(sku=f"sku{i:03d}", image_path=f"images/{i:03d}.jpg", hash=f"h{i}",
                          category="tee", attrs={"color": "red"}))
    repo.upsert_items(items)
    return [it.sku for it in items]


def _tiny_embedder(settings, mask=False) -> Embedder:
    torch.manual_seed(0)
    return Embedder("studio_encoder", settings, model=new_encoder(widths=TINY), mask=mask)


def test_embed_job_resumes_after_interruption(repo, settings):
    skus = _catalog(repo, settings)
    repo.put_vectors("other_model", skus[:3], np.ones((3, 4), np.float32))
    emb = _tiny_embedder(settings)

    class Interrupt(Exception):
        pass

    def stop_after_first_batch(done, total):
        raise Interrupt

    with pytest.raises(Interrupt):
        embed_catalog(repo, settings, "studio_encoder", batch_size=4, embedder=emb, workers=0,
                      progress=stop_after_first_batch)
    assert repo.vector_count("studio_encoder") == 4  # the first batch was written
    first_skus, first = repo.vectors("studio_encoder")

    seen = []
    n = embed_catalog(repo, settings, "studio_encoder", batch_size=4, embedder=emb, workers=0,
                      progress=lambda d, t: seen.append((d, t)))
    assert n == 6 and seen[-1] == (6, 6)
    all_skus, vecs = repo.vectors("studio_encoder")
    assert sorted(all_skus) == skus and vecs.shape == (10, 128)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    again = dict(zip(all_skus, vecs, strict=True))
    assert all(np.allclose(again[s], v) for s, v in zip(first_skus, first, strict=True))
    assert embed_catalog(repo, settings, "studio_encoder", embedder=emb, workers=0) == 0
    other_skus, other = repo.vectors("other_model")
    assert other_skus == skus[:3] and np.allclose(other, 1)


def test_masked_model_id_is_separate_and_bad_files_are_skipped(repo, settings):
    skus = _catalog(repo, settings, n=5)
    (settings.data_dir / "images" / "004.jpg").write_bytes(b"not an image")
    embed_catalog(repo, settings, "studio_encoder", embedder=_tiny_embedder(settings),
                  workers=0)
    masked = _tiny_embedder(settings, mask=True)
    assert masked.model_id == "studio_encoder+mask"
    assert embed_catalog(repo, settings, "studio_encoder", embedder=masked, workers=0) == 5
    assert repo.vector_count("studio_encoder") == 4
    assert repo.vector_count("studio_encoder+mask") == 4
    assert skus[4] in repo.skus_without_vectors("studio_encoder+mask")


def test_embedder_queries_and_categories(settings):
    emb = _tiny_embedder(settings)
    imgs = [Image.new("RGB", (50, 70), (i * 40, 10, 10)) for i in range(3)]
    vecs = emb.embed_images(imgs)
    assert vecs.shape == (3, 128)
    preds = emb.predict_categories(imgs, k=3)
    assert len(preds) == 3 and len(preds[0]) == 3
    assert all(isinstance(c, str) and 0 <= p <= 1 for c, p in preds[0])
    summary = emb.top_categories_of_set(imgs, k=2)
    assert sum(n for _, n in summary) <= 3 and summary[0][1] >= 1
    masked = emb.embed_images([Image.new("RGB", (50, 70), (200, 200, 200))], mask=True)
    assert masked.shape == (1, 128)


def test_embed_cli_with_a_worker_pool(repo, settings, env_for):
    _catalog(repo, settings, n=9)
    torch.manual_seed(0)
    save_checkpoint(new_encoder(widths=TINY), settings.weights_dir / STUDIO_FILE)
    out = subprocess.run(
        [sys.executable, "-m", "core", "embed", "--backbone", "studio_encoder", "--batch-size",
         "4", "--workers", "2", "--json"], env=env_for(), capture_output=True, text=True,
        timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    tags = result.pop("tags")  # category and colour were supplied; no pattern head
    assert result == {"model_id": "studio_encoder", "embedded": 9, "vectors": 9, "items": 9}
    assert tags["tagged"] == 0 and tags["unavailable"] == ["pattern", "sleeve"]
    # the vectors are packed for a new host's first load
    from core.storage.vectorsnapshot import snapshot_headers

    assert [h["count"] for h in snapshot_headers(repo, "studio_encoder")] == [9]


def test_embed_cli_missing_weights_is_bad_input(settings, env_for):
    out = subprocess.run([sys.executable, "-m", "core", "embed", "--backbone", "resnet50"],
                         env=env_for(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "resnet50-11ad3fa6.pth" in out.stderr


def test_new_weights_file_reembeds_the_catalog(repo, settings):
    """Shipping a new encoder must not mix two embedding spaces: vectors are redone."""
    _catalog(repo, settings, n=6)
    weights = settings.weights_dir / STUDIO_FILE
    torch.manual_seed(1)
    save_checkpoint(new_encoder(widths=TINY), weights)
    first = Embedder("studio_encoder", settings)
    assert embed_catalog(repo, settings, "studio_encoder", embedder=first, workers=0) == 6
    assert repo.vectors_source("studio_encoder") == first.source
    assert first.source.startswith("studio_encoder:sha256=")
    assert embed_catalog(repo, settings, "studio_encoder", embedder=first, workers=0) == 0
    _, old = repo.vectors("studio_encoder")

    torch.manual_seed(2)
    save_checkpoint(new_encoder(widths=TINY), weights)
    second = Embedder("studio_encoder", settings)
    assert second.source != first.source
    version = repo.vectors_version("studio_encoder")
    assert embed_catalog(repo, settings, "studio_encoder", embedder=second, workers=0) == 6
    _, new = repo.vectors("studio_encoder")
    assert new.shape == old.shape and not np.allclose(new, old)
    assert repo.vectors_source("studio_encoder") == second.source
    assert repo.vectors_version("studio_encoder") > version


def test_vectors_of_unknown_provenance_are_redone(repo, settings):
    skus = _catalog(repo, settings, n=4)
    repo.put_vectors("studio_encoder", skus, np.ones((4, 128), np.float32))
    emb = _tiny_embedder(settings)
    assert embed_catalog(repo, settings, "studio_encoder", embedder=emb, workers=0) == 4
    _, vecs = repo.vectors("studio_encoder")
    assert not np.allclose(vecs, vecs[0])  # no longer the placeholder ones


def test_embed_and_pack_packs_what_it_embedded(repo, settings):
    from core.index.vectorcache import VectorCache, cached_vectors
    from core.models.embed import embed_and_pack
    from core.storage.vectorsnapshot import snapshot_headers

    skus = _catalog(repo, settings, n=6)
    emb = _tiny_embedder(settings)
    assert embed_and_pack(repo, settings, "studio_encoder", embedder=emb, workers=0) == 6
    [head] = snapshot_headers(repo, "studio_encoder")
    assert (head["count"], head["vectors_version"]) == (6, repo.vectors_version("studio_encoder"))
    got_skus, got, source = cached_vectors(repo, "studio_encoder", VectorCache(settings.cache_dir))
    assert source == "disk" and got_skus == skus
    np.testing.assert_array_equal(got, repo.vectors("studio_encoder")[1])
    assert embed_and_pack(repo, settings, "studio_encoder", embedder=emb, workers=0) == 0
    assert snapshot_headers(repo, "studio_encoder") == [head]  # nothing new: left as it was


def test_a_failed_pack_leaves_the_embedding_standing(repo, settings, monkeypatch, caplog):
    import core.index.vectorcache as vectorcache
    from core.models.embed import embed_and_pack
    from core.storage.vectorsnapshot import snapshot_headers

    _catalog(repo, settings, n=4)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(vectorcache, "pack_added", broken)
    with caplog.at_level("WARNING", logger="core.models.embed"):
        n = embed_and_pack(repo, settings, "studio_encoder", embedder=_tiny_embedder(settings),
                           workers=0)
    assert n == 4 and repo.vector_count("studio_encoder") == 4
    assert snapshot_headers(repo, "studio_encoder") == []
    assert "could not pack the vectors of 'studio_encoder': disk full" in caplog.text


def test_adding_items_packs_without_reading_every_vector_back(repo, settings, monkeypatch):
    from core.index.vectorcache import VectorCache, cached_vectors
    from core.models.embed import embed_and_pack
    from core.storage.vectorsnapshot import load_snapshot

    _catalog(repo, settings, n=6)
    emb = _tiny_embedder(settings)
    assert embed_and_pack(repo, settings, "studio_encoder", embedder=emb, batch_size=4,
                          workers=0) == 6
    skus = _catalog(repo, settings, n=9)  # three more items
    read_back = []
    real = type(repo).vectors
    monkeypatch.setattr(type(repo), "vectors",
                        lambda self, *a, **k: read_back.append(a) or real(self, *a, **k))
    assert embed_and_pack(repo, settings, "studio_encoder", embedder=emb, batch_size=2,
                          workers=0) == 3
    assert read_back == []  # packed from the previous state and the three new rows
    version = repo.vectors_version("studio_encoder")
    got_skus, got, source = cached_vectors(repo, "studio_encoder", VectorCache(settings.cache_dir))
    want_skus, want = repo.vectors("studio_encoder")
    assert source == "disk" and got_skus == want_skus == skus
    np.testing.assert_array_equal(got, want)
    snap_skus, snap = load_snapshot(repo, "studio_encoder", 9, version)
    assert snap_skus == skus
    np.testing.assert_array_equal(snap, want)


def test_a_write_by_someone_else_meanwhile_packs_from_the_documents(repo, settings):
    from core.index.vectorcache import VectorCache, cached_vectors, pack_added
    from core.models.embed import embed_and_pack

    _catalog(repo, settings, n=5)
    emb = _tiny_embedder(settings)
    embed_and_pack(repo, settings, "studio_encoder", embedder=emb, workers=0)
    before = (repo.vectors_version("studio_encoder"), 5)
    skus, vecs = repo.vectors("studio_encoder")
    repo.put_vectors("studio_encoder", skus[:1], vecs[1:2])  # another process rewrites one
    mine = ["sku999"], vecs[2:3]
    repo.put_vectors("studio_encoder", *mine)
    cache = VectorCache(settings.cache_dir)
    assert pack_added(repo, "studio_encoder", cache, before, [mine]) == "database"
    got_skus, got, source = cached_vectors(repo, "studio_encoder", cache)
    assert source == "disk" and got_skus == [*skus, "sku999"]
    np.testing.assert_array_equal(got[0], vecs[1])  # the other process's write is there


def test_page_and_bootstrap_embeds_pack_the_vectors(repo, settings):
    """The embed of `demo ensure` / a Home page ingest (embed_and_tag) and the Search page's
    "embed missing" pack the vectors, as `python -m core embed` does."""
    from core.bootstrap import embed_and_tag
    from core.catalog_jobs import embed_missing
    from core.storage.vectorsnapshot import snapshot_headers

    _catalog(repo, settings, n=5)
    torch.manual_seed(0)
    save_checkpoint(new_encoder(widths=TINY), settings.weights_dir / STUDIO_FILE)
    assert embed_and_tag(repo, settings).embedded == 5
    assert [(h["count"], h["vectors_version"]) for h in snapshot_headers(repo, "studio_encoder")
            ] == [(5, repo.vectors_version("studio_encoder"))]
    _catalog(repo, settings, n=8)  # three more items
    assert embed_missing(repo, settings, "studio_encoder") == 3
    assert [(h["count"], h["vectors_version"]) for h in snapshot_headers(repo, "studio_encoder")
            ] == [(8, repo.vectors_version("studio_encoder"))]
