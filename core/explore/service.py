"""The explorer service: a map of the catalog (projection + clusters), cached in MongoDB.

Results live in the ``projections`` documents keyed by model id, catalog version, the number
of vectors, the model's vectors version and the parameters, so a revisit reads one document and
a changed catalog (or a finished embedding job, even one that rewrote the same number of
vectors) computes afresh. Coordinates are stored as plain lists of floats.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.explore.clusters import (
    K_MAX,
    SUMMARY_ATTRS,
    ClusterSummary,
    cluster,
    suggest_k,
    summarise,
)
from core.explore.params import ExploreError, MapParams, ProjectionParams
from core.explore.progress import report, scaled
from core.explore.projection import (
    Projection,
    nearest,
    normalise,
    place_by_neighbours,
    place_linear,
    project,
    reduce,
)
from core.explore.sample import SAMPLE_SIZE, sample_skus
from core.progress import FractionProgress
from core.storage import Item, Range, Repository

log = logging.getLogger(__name__)

KIND = "projections"
TABLE_COLUMNS = ("sku", "name", *SUMMARY_ATTRS, "cluster", "x", "y")


@dataclass
class Placement:
    """Where a new embedding lands: coordinates, its cluster and its nearest catalog rows."""

    x: float
    y: float
    cluster: int
    neighbours: list[int]
    similarities: list[float]


@dataclass
class ExploreMap:
    """One row per catalog item with a vector: coordinates, cluster and attributes."""

    model_id: str
    catalog_version: int
    vector_count: int
    params: MapParams
    table: pd.DataFrame
    items: list[Item]
    summaries: list[ClusterSummary]
    silhouette: float | None
    seconds: float
    cached: bool
    linear: tuple[np.ndarray, np.ndarray] | None = None  # PCA mean and components
    unit_vectors: np.ndarray | None = field(default=None, repr=False)
    sampled_from: int = 0  # the model's vector count when the map shows a sample of them
    sample_size: int = 0  # how many items that sample drew

    @property
    def n(self) -> int:
        return len(self.table)

    @property
    def coords(self) -> np.ndarray:
        return self.table[["x", "y"]].to_numpy(dtype=np.float32)

    def cluster_rows(self, cluster_id: int) -> list[int]:
        """Rows of a cluster, its representatives (nearest the centroid) first."""
        rows = np.flatnonzero(self.table["cluster"].to_numpy() == cluster_id).tolist()
        reps = next((s.representatives for s in self.summaries if s.id == cluster_id), [])
        pos = dict(zip(self.table["sku"], range(self.n), strict=True))
        first = [pos[s] for s in reps if s in pos]
        return first + sorted(set(rows) - set(first))


def _stamp(repo: Repository, model_id: str) -> dict[str, Any]:
    """What a cached result depends on besides its parameters."""
    return {"model_id": model_id, "catalog_version": repo.catalog_version(),
            "n": repo.vector_count(model_id), "vectors_version": repo.vectors_version(model_id)}


def _key(prefix: str, stamp: dict[str, Any], params: dict[str, Any]) -> str:
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return (f"{prefix}|{stamp['model_id']}|v{stamp['catalog_version']}|n{stamp['n']}"
            f"|e{stamp['vectors_version']}|{digest}")


def _drop_stale(repo: Repository, stamp: dict[str, Any]) -> None:
    """Delete cached results that can never be read again (older catalog or vectors version)."""
    model_id, version = stamp["model_id"], stamp["catalog_version"]
    if version > 0:
        repo.delete_docs(KIND, {"model_id": model_id, "catalog_version": Range(max=version - 1)})
    if stamp["vectors_version"] > 0:
        repo.delete_docs(KIND, {"model_id": model_id, "catalog_version": version,
                                "vectors_version": Range(max=stamp["vectors_version"] - 1)})


def _digest(skus: list[str]) -> str:
    return hashlib.sha1("\n".join(skus).encode()).hexdigest()


def _floats(a: np.ndarray) -> list[float]:
    return np.asarray(a, dtype=np.float64).ravel().tolist()


def _projection_doc(key: str, stamp: dict[str, Any], skus: list[str], proj: Projection,
                    params: ProjectionParams) -> dict[str, Any]:
    doc = {"_id": key, "kind": "projection", **stamp, "params": params.as_dict(), "skus": skus,
           "x": _floats(proj.coords[:, 0]), "y": _floats(proj.coords[:, 1]),
           "seconds": proj.seconds, "created_at": time.time()}
    if proj.mean is not None:
        doc["mean"] = _floats(proj.mean)
        doc["components"] = [_floats(c) for c in proj.components]
    return doc


def _compute(repo: Repository, model_id: str, params: MapParams, stamp: dict[str, Any],
             keys: tuple[str, str], docs: list[dict | None], progress: FractionProgress | None,
             cache_dir: Path | None = None) -> tuple[list[dict], np.ndarray, list[str]]:
    """Compute whatever of (projection, clusters) is not cached, store it, return both docs."""
    skus, vectors = _read_vectors(repo, model_id, stamp["n"], params.sample, params.seed,
                                  progress, cache_dir)
    unit = normalise(vectors)
    features = reduce(unit, seed=0)
    pdoc, cdoc = docs
    if pdoc is not None and pdoc["skus"] != skus:
        pdoc = None  # same count but different vectors: the stored coordinates are stale
    if pdoc is None:
        proj = project(unit, params.projection, scaled(progress, 0.05, 0.9), features=features)
        pdoc = _projection_doc(keys[0], stamp, skus, proj, params.projection)
    if cdoc is None:
        clus = cluster(features, params.clusters, params.seed,
                       progress=scaled(progress, 0.9, 0.98))
        cdoc = {"_id": keys[1], "kind": "clusters", **stamp,
                "params": {"clusters": params.clusters, "seed": params.seed},
                "skus_digest": _digest(skus), "labels": clus.labels.tolist(),
                "representatives": [[skus[r] for r in reps] for reps in clus.representatives],
                "silhouette": clus.silhouette, "seconds": clus.seconds, "created_at": time.time()}
    repo.put_docs(KIND, [pdoc, cdoc])
    _drop_stale(repo, stamp)
    return [pdoc, cdoc], unit, skus


def _read_vectors(repo: Repository, model_id: str, n: int, sample: int, seed: int,
                  progress: FractionProgress | None, cache_dir: Path | None = None
                  ) -> tuple[list[str], np.ndarray]:
    """All of a model's vectors, or those of a category-stratified sample above ``sample``.

    All of them come from the disk cache under ``cache_dir`` (when given), else the packed
    snapshot in MongoDB, else one document per vector (``cached_vectors``); the matrix may
    be read-only."""
    if n <= sample:
        from core.index.vectorcache import VectorCache, cached_vectors

        report(progress, 0.0, "reading vectors")
        skus, matrix, _ = cached_vectors(
            repo, model_id, VectorCache(cache_dir) if cache_dir is not None else None)
        return skus, matrix
    report(progress, 0.0, f"choosing a stratified sample of {sample:,} of {n:,} items")
    return repo.vectors(model_id, skus=sample_skus(repo, model_id, sample, seed))


def _sample_part(stamp: dict[str, Any], params: MapParams) -> dict[str, int]:
    """The sample in a cache key (nothing when the whole catalog is mapped: keys unchanged)."""
    return {"sample": params.sample} if stamp["n"] > params.sample else {}


SILHOUETTE_HELP = ("Silhouette (−1 to 1): how well the k-means clusters stand apart; below "
                   "about 0.25 they overlap, the catalog being a continuum of looks rather "
                   "than distinct groups.")


def map_caption(emap: ExploreMap, model: str) -> tuple[str, str | None]:
    """(caption, tooltip) under the map: items, model, where the map came from and, when
    scored, the clusters' silhouette (the tooltip explains it)."""
    origin = "stored result" if emap.cached else f"computed in {emap.seconds:.1f}s"
    text = f"{emap.n:,} items · model `{model}` · {origin}"
    if emap.silhouette is None:
        return text, None
    return f"{text} · silhouette {emap.silhouette:.2f}", SILHOUETTE_HELP


def sample_note(emap: ExploreMap) -> str | None:
    """What the page says when the map shows a sample, else None."""
    if not emap.sampled_from:
        return None
    return (f"Showing a stratified sample of {emap.sample_size:,} of {emap.sampled_from:,} "
            "items (every category keeps its share).")


def build_map(repo: Repository, model_id: str, params: MapParams, *,
              progress: FractionProgress | None = None, use_cache: bool = True,
              cache_dir: Path | None = None) -> ExploreMap:
    """The map of a model's vectors: from the cache when it is current, else computed (the
    vectors read through the disk cache under ``cache_dir`` when given, see _read_vectors)."""
    params.validate()
    start = time.perf_counter()
    stamp = _stamp(repo, model_id)
    if stamp["n"] < 3:
        raise ExploreError(f"model {model_id!r} has {stamp['n']} vectors (need at least 3): "
                           f"run `python -m core embed --backbone {model_id}` first")
    part = _sample_part(stamp, params)
    keys = (_key("proj", stamp, {**params.projection.as_dict(), **part}),
            _key("clus", stamp, {"k": params.clusters, "seed": params.seed, **part}))
    docs = [repo.get_doc(KIND, k) if use_cache else None for k in keys]
    if docs[0] and docs[1] and docs[1]["skus_digest"] != _digest(docs[0]["skus"]):
        docs[1] = None  # stored from a different vector set: recompute the clusters
    cached = all(d is not None for d in docs)
    unit = None
    if not cached:
        docs, unit, _ = _compute(repo, model_id, params, stamp, keys, docs, progress,
                                 cache_dir)
    report(progress, 0.98, "reading items")
    emap = _assemble(repo, model_id, params, stamp, docs, unit)
    emap.cached = cached
    emap.seconds = time.perf_counter() - start
    report(progress, 1.0, f"map of {emap.n} items ready")
    return emap


def _assemble(repo: Repository, model_id: str, params: MapParams, stamp: dict[str, Any],
              docs: list[dict], unit: np.ndarray | None) -> ExploreMap:
    """Join stored coordinates and labels with the items (vectors of deleted items drop out)."""
    pdoc, cdoc = docs
    skus = list(pdoc["skus"])
    items = repo.get_items(skus)
    if not items:
        raise ExploreError(f"none of the {len(skus)} vectors of model {model_id!r} belongs to a "
                           "catalog item")
    pos = {s: i for i, s in enumerate(skus)}
    rows = np.array([pos[it.sku] for it in items], dtype=np.int64)
    labels = np.asarray(cdoc["labels"], dtype=np.int32)[rows]
    table = pd.DataFrame({
        "sku": [it.sku for it in items],
        "name": [it.name or it.sku for it in items],
        "category": [it.category or "unknown" for it in items],
        **{a: [str(it.attrs.get(a) or "unknown") for it in items] for a in SUMMARY_ATTRS[1:]},
        "cluster": labels,
        "x": np.asarray(pdoc["x"], dtype=np.float32)[rows],
        "y": np.asarray(pdoc["y"], dtype=np.float32)[rows],
    }, columns=list(TABLE_COLUMNS))
    known = set(table["sku"])
    reps = [[s for s in group if s in known] for group in cdoc["representatives"]]
    summaries = summarise(labels, {a: table[a].tolist() for a in SUMMARY_ATTRS}, reps)
    linear = None
    if "mean" in pdoc:
        linear = (np.asarray(pdoc["mean"], dtype=np.float32),
                  np.asarray(pdoc["components"], dtype=np.float32))
    sampled = stamp["n"] > params.sample
    return ExploreMap(
        model_id=model_id, catalog_version=stamp["catalog_version"], vector_count=stamp["n"],
        params=params, table=table, items=items, summaries=summaries,
        silhouette=cdoc.get("silhouette"), seconds=0.0, cached=False, linear=linear,
        unit_vectors=unit[rows] if unit is not None else None,
        sampled_from=stamp["n"] if sampled else 0, sample_size=len(skus) if sampled else 0,
    )


def ensure_vectors(emap: ExploreMap, repo: Repository) -> np.ndarray:
    """The map's unit vectors aligned with its rows (read once, then kept on the map): those
    of a sample's skus, or the whole catalog's through ``cached_vectors``."""
    if emap.unit_vectors is None:
        if emap.sampled_from:
            skus, vectors = repo.vectors(emap.model_id, skus=emap.table["sku"].tolist())
        else:
            from core.index.vectorcache import cached_vectors

            skus, vectors, _ = cached_vectors(repo, emap.model_id, None)
        pos = {s: i for i, s in enumerate(skus)}
        missing = [s for s in emap.table["sku"] if s not in pos]
        if missing:
            raise ExploreError(f"vectors changed while the map was open ({missing[0]!r} is "
                               "gone): reload the map")
        rows = np.array([pos[s] for s in emap.table["sku"]], dtype=np.int64)
        emap.unit_vectors = normalise(vectors[rows])
    return emap.unit_vectors


def place(emap: ExploreMap, vector: np.ndarray, repo: Repository, k: int = 10) -> Placement:
    """Put a new embedding on the map: projected for PCA, neighbour-weighted for t-SNE."""
    unit = ensure_vectors(emap, repo)
    vec = np.asarray(vector, dtype=np.float32).ravel()
    if vec.shape[0] != unit.shape[1]:
        raise ExploreError(f"embedding has {vec.shape[0]} dimensions, the map's model "
                           f"{emap.model_id!r} has {unit.shape[1]}")
    rows, sims = nearest(unit, vec, k)
    coords = emap.coords
    if emap.linear is not None:
        xy = place_linear(*emap.linear, vec)
    else:
        xy = place_by_neighbours(coords, rows, sims)
    labels = emap.table["cluster"].to_numpy()[rows]
    weights = np.exp((sims - sims.max()) / 0.05)
    votes: dict[int, float] = {}
    for label, w in zip(labels.tolist(), weights.tolist(), strict=True):
        votes[label] = votes.get(label, 0.0) + w
    return Placement(float(xy[0]), float(xy[1]), int(max(votes, key=votes.get)),
                     rows.tolist(), sims.astype(float).tolist())


def suggest_clusters(repo: Repository, model_id: str, *, k_min: int = 2, k_max: int = K_MAX,
                     progress: FractionProgress | None = None, use_cache: bool = True,
                     cache_dir: Path | None = None) -> dict[str, Any]:
    """Best k by silhouette on a sample of the model's vectors: {"k", "scores"} (cached)."""
    stamp = _stamp(repo, model_id)
    if stamp["n"] < 3:
        raise ExploreError(f"model {model_id!r} has {stamp['n']} vectors (need at least 3)")
    part = {"sample": SAMPLE_SIZE} if stamp["n"] > SAMPLE_SIZE else {}
    key = _key("ksug", stamp, {"k_min": k_min, "k_max": k_max, **part})
    doc = repo.get_doc(KIND, key) if use_cache else None
    if doc is None:
        _, vectors = _read_vectors(repo, model_id, stamp["n"], SAMPLE_SIZE, 0, progress,
                                   cache_dir)
        sug = suggest_k(reduce(normalise(vectors), seed=0), k_min, k_max,
                        progress=scaled(progress, 0.1, 1.0))
        doc = {"_id": key, "kind": "k_suggestion", **stamp, "k": sug.k,
               "scores": {str(k): s for k, s in sug.scores.items()}}
        repo.put_docs(KIND, [doc])
    return {"k": int(doc["k"]), "scores": {int(k): float(s) for k, s in doc["scores"].items()}}
