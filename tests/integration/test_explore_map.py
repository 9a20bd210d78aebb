"""Explorer against the embedded MongoDB: cached maps, invalidation, placement, the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import adjusted_rand_score

import core.explore.service as service
from core.explore import (
    ExploreError,
    MapMemo,
    MapParams,
    build_map,
    place,
    suggest_clusters,
)
from core.explore.bench import synthetic_vectors
from core.storage import Item

MODEL = "toy_encoder"
KINDS = [("dress", "red"), ("tee", "navy"), ("jeans", "blue"), ("bag", "beige")]


def seed_catalog(repo, n: int = 120, dim: int = 32, start: int = 0) -> np.ndarray:
    """n items whose vectors cluster by (category, colour); returns the true cluster labels."""
    unit, labels = synthetic_vectors(n, dim, centers=len(KINDS), spread=0.7, seed=start + 5)
    items, skus = [], []
    for i, label in enumerate(labels.tolist(), start=start):
        category, color = KINDS[label]
        skus.append(f"X{i:04d}")
        items.append(Item(sku=skus[-1], image_path=f"images/x{i}.jpg", hash=f"h{i:05d}",
                          category=category, name=f"{color} {category} {i}",
                          attrs={"color": color, "pattern": "solid", "season": "summer"}))
    repo.upsert_items(items)
    repo.put_vectors(MODEL, skus, unit)
    return labels


def _forbid(monkeypatch, *names: str) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("recomputed although a cached result exists")

    for name in names:
        monkeypatch.setattr(service, name, boom)


def test_map_summaries_recover_the_kinds(repo):
    truth = seed_catalog(repo)
    emap = build_map(repo, MODEL, MapParams("tsne", clusters=4, perplexity=15, iterations=250))
    assert not emap.cached and emap.n == 120
    assert adjusted_rand_score(truth, emap.table["cluster"]) >= 0.9
    tops = {(s.top["category"][0], s.top["color"][0]) for s in emap.summaries}
    assert tops == set(KINDS)
    assert all(s.top["category"][1] >= 0.9 for s in emap.summaries)
    for s in emap.summaries:  # representatives belong to their cluster
        rows = emap.table.set_index("sku").loc[s.representatives]
        assert (rows["cluster"] == s.id).all() and len(s.representatives) == 6


def test_second_visit_reads_the_cache(repo, monkeypatch):
    seed_catalog(repo)
    params = MapParams("tsne", clusters=4, perplexity=15, iterations=250)
    first = build_map(repo, MODEL, params)
    _forbid(monkeypatch, "project", "cluster")
    again = build_map(repo, MODEL, params)
    assert again.cached and again.summaries == first.summaries
    assert np.allclose(again.coords, first.coords, atol=1e-5)


def test_new_k_reuses_the_projection(repo, monkeypatch):
    seed_catalog(repo)
    first = build_map(repo, MODEL, MapParams("pca", clusters=4))
    _forbid(monkeypatch, "project")
    other = build_map(repo, MODEL, MapParams("pca", clusters=3))
    assert not other.cached and other.table["cluster"].nunique() == 3
    assert np.allclose(other.coords, first.coords)


def test_catalog_change_recomputes_and_drops_stale_results(repo):
    seed_catalog(repo)
    params = MapParams("pca", clusters=4)
    old = build_map(repo, MODEL, params)
    assert repo.count_docs("projections", {"catalog_version": old.catalog_version}) == 2
    seed_catalog(repo, n=12, start=500)  # new items bump the catalog version
    new = build_map(repo, MODEL, params)
    assert not new.cached and new.n == 132 and new.catalog_version > old.catalog_version
    assert repo.count_docs("projections", {"catalog_version": old.catalog_version}) == 0
    repo.bump_catalog_version()
    assert not build_map(repo, MODEL, params).cached


def test_vectors_without_items_are_left_out(repo):
    seed_catalog(repo, n=40)
    repo.put_vectors(MODEL, ["GHOST"], np.ones((1, 32), dtype=np.float32))
    emap = build_map(repo, MODEL, MapParams("pca", clusters=2))
    assert emap.n == 40 and "GHOST" not in set(emap.table["sku"])


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_placing_a_new_embedding(repo, method):
    seed_catalog(repo)
    emap = build_map(repo, MODEL, MapParams(method, clusters=4, perplexity=15, iterations=250))
    _, vectors = repo.vectors(MODEL)
    row = 17
    probe = vectors[row] + np.random.default_rng(1).normal(size=32).astype(np.float32) * 0.02
    spot = place(emap, probe, repo)
    assert spot.neighbours[0] == row
    assert spot.cluster == emap.table.loc[row, "cluster"]
    own = emap.table[emap.table["cluster"] == spot.cluster][["x", "y"]].to_numpy()
    others = emap.table[emap.table["cluster"] != spot.cluster][["x", "y"]].to_numpy()
    xy = np.array([spot.x, spot.y])
    assert np.linalg.norm(own - xy, axis=1).min() < np.linalg.norm(others - xy, axis=1).min()
    with pytest.raises(ExploreError, match="dimensions"):
        place(emap, np.ones(7), repo)


def test_k_suggestion_is_cached(repo, monkeypatch):
    seed_catalog(repo)
    assert suggest_clusters(repo, MODEL, k_max=8)["k"] == len(KINDS)
    _forbid(monkeypatch, "suggest_k")
    assert suggest_clusters(repo, MODEL, k_max=8)["k"] == len(KINDS)


def test_errors_name_the_problem(repo):
    with pytest.raises(ExploreError, match="python -m core embed --backbone nothing"):
        build_map(repo, "nothing", MapParams())
    with pytest.raises(ExploreError, match="clusters"):
        build_map(repo, MODEL, MapParams(clusters=0))


def test_memo_keeps_maps_until_the_catalog_changes(repo):
    seed_catalog(repo, n=30)
    memo = MapMemo()
    params = MapParams("pca", clusters=3)
    first = memo.get(repo, MODEL, params)
    assert memo.get(repo, MODEL, params) is first
    repo.bump_catalog_version()
    assert memo.get(repo, MODEL, params) is not first


def _cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], env=env, capture_output=True,
                          text=True, timeout=180)


@pytest.mark.slow
def test_cli_writes_png_csv_and_json(repo, env_for, tmp_path):
    seed_catalog(repo)
    out = tmp_path / "out"
    proc = _cli(env_for(), "explore", "--method", "tsne", "--clusters", "0", "--model", MODEL,
                "--iterations", "250", "--perplexity", "15", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["method"] == "tsne" and result["n"] == 120 and result["k"] == len(KINDS)
    assert result["seconds"] >= 0 and not result["cached"]
    assert {(c["top_category"], c["top_color"]) for c in result["clusters"]} == set(KINDS)
    assert sum(c["size"] for c in result["clusters"]) == 120
    with Image.open(out / "map.png") as img:
        assert img.format == "PNG" and img.size[0] > 500
    with open(out / "clusters.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 120 and {r["cluster"] for r in rows} == {"0", "1", "2", "3"}
    again = _cli(env_for(), "explore", "--method", "tsne", "--clusters", "4", "--model", MODEL,
                 "--iterations", "250", "--perplexity", "15", "--out", str(out), "--json")
    assert json.loads(again.stdout)["cached"] is True


def test_cli_bad_input_exits_2_with_one_line(repo, env_for, tmp_path):
    proc = _cli(env_for(), "explore", "--method", "pca", "--clusters", "3", "--model", "nothing",
                "--out", str(tmp_path), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1].startswith("error: model 'nothing' has 0 vectors")


def test_cli_bench_reports_rows(env_for):
    proc = _cli(env_for(), "bench", "explore", "--sizes", "150", "--iterations", "250",
                "--clusters", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["rows"]
    assert row["n"] == 150 and row["tsne_seconds"] > 0


def test_reembedding_same_skus_recomputes_map_and_memo(repo, monkeypatch):
    # A new encoder rewrites the vectors of the same items: same count, same catalog version.
    seed_catalog(repo, n=40)
    params = MapParams("pca", clusters=3)
    memo = MapMemo()
    first = memo.get(repo, MODEL, params)
    assert memo.get(repo, MODEL, params) is first
    version = repo.catalog_version()
    skus, vectors = repo.vectors(MODEL)
    rng = np.random.default_rng(11)
    repo.put_vectors(MODEL, skus, rng.standard_normal(vectors.shape).astype(np.float32))
    assert repo.catalog_version() == version and repo.vector_count(MODEL) == 40
    second = memo.get(repo, MODEL, params)
    assert second is not first and not second.cached
    assert not np.allclose(second.coords, first.coords, atol=1e-3)
    assert build_map(repo, MODEL, params).cached  # stored under the new vectors version
    stale = {"model_id": MODEL, "vectors_version": repo.vectors_version(MODEL) - 1}
    assert repo.count_docs("projections", stale) == 0  # the old results were dropped

    calls = []
    real = service.suggest_k
    monkeypatch.setattr(service, "suggest_k", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    suggest_clusters(repo, MODEL, k_max=4)
    suggest_clusters(repo, MODEL, k_max=4)
    repo.put_vectors(MODEL, skus, vectors)  # back to the first vectors: a new version again
    suggest_clusters(repo, MODEL, k_max=4)
    assert len(calls) == 2  # computed, cached, recomputed after the rewrite
