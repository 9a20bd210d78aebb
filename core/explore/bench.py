"""Explorer benchmark: PCA, t-SNE and k-means times on clustered synthetic embeddings."""

from __future__ import annotations

import logging
import os
import resource
import time

import numpy as np

from core.explore.clusters import cluster
from core.explore.progress import report, scaled
from core.explore.projection import ProjectionParams, normalise, project, reduce
from core.progress import FractionProgress

log = logging.getLogger(__name__)


def synthetic_vectors(n: int, dim: int = 128, centers: int = 20, spread: float = 0.6,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``centers`` random directions (like a trained embedding); labels."""
    rng = np.random.default_rng(seed)
    means = normalise(rng.normal(size=(centers, dim)))
    labels = rng.integers(0, centers, size=n)
    noise = rng.normal(size=(n, dim)) * (spread / np.sqrt(dim))
    return normalise(means[labels] + noise), labels.astype(np.int32)


def bench_sizes(sizes: list[int], *, dim: int = 128, iterations: int = 750,
                clusters: int = 20, seed: int = 0,
                progress: FractionProgress | None = None) -> list[dict[str, float]]:
    """One row per size: seconds for PCA-50, PCA-2, t-SNE and k-means."""
    rows = []
    for i, n in enumerate(sizes):
        step = scaled(progress, i / len(sizes), (i + 1) / len(sizes))
        unit, _ = synthetic_vectors(n, dim, centers=clusters, seed=seed)
        rows.append(bench_vectors(unit, iterations=iterations, clusters=clusters, seed=seed,
                                  progress=step))
    return rows


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_vectors(unit: np.ndarray, *, iterations: int = 750, clusters: int = 20, seed: int = 0,
                  progress: FractionProgress | None = None) -> dict[str, float]:
    """Time each explorer stage on one set of unit vectors."""
    t0 = time.perf_counter()
    features = reduce(unit, seed=seed)
    t1 = time.perf_counter()
    project(unit, ProjectionParams("pca"))
    load = os.getloadavg()[0]
    cpu0, t2 = _cpu_seconds(), time.perf_counter()
    project(unit, ProjectionParams("tsne", iterations=iterations, seed=seed),
            scaled(progress, 0.0, 0.95), features=features)
    cpu1, t3 = _cpu_seconds(), time.perf_counter()
    cluster(features, clusters, seed)
    t4 = time.perf_counter()
    report(progress, 1.0, f"{len(unit)} points done")
    row = {"n": len(unit), "dim": int(unit.shape[1]), "iterations": iterations,
           "pca50_seconds": round(t1 - t0, 3), "pca_seconds": round(t2 - t1, 3),
           "tsne_seconds": round(t3 - t2, 2), "tsne_cpu_seconds": round(cpu1 - cpu0, 2),
           "kmeans_seconds": round(t4 - t3, 3), "cpus": os.cpu_count() or 1,
           "load_average": round(load, 2)}
    log.info("bench %s", row)
    return row
