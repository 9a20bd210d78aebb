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


def knn_kept(features: np.ndarray, coords: np.ndarray, k: int = 10) -> float:
    """Mean share of each point's k nearest neighbours (in ``features``) that are also among
    its k nearest on the map: how much local structure a projection keeps."""
    from sklearn.neighbors import NearestNeighbors

    high = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(return_distance=False)
    low = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(return_distance=False)
    kept = [len(set(h[1:]) & set(lo[1:])) for h, lo in zip(high, low, strict=True)]
    return float(np.mean(kept)) / k


def bench_tsne_engines(n: int, *, dim: int = 128, iterations: int = 750, clusters: int = 20,
                       seed: int = 0, progress: FractionProgress | None = None
                       ) -> dict[str, object]:
    """scikit-learn's Barnes-Hut t-SNE against openTSNE's FFT t-SNE on the same PCA-50
    features in one run: seconds and the share of 10-nearest neighbours each map keeps."""
    from core.explore.projection import fft_tsne_available, idle_cores, tsne, tsne_fft

    unit, _ = synthetic_vectors(n, dim, centers=clusters, seed=seed)
    features = reduce(unit, seed=seed)
    params = ProjectionParams("tsne", iterations=iterations, seed=seed)
    threads = idle_cores()
    engines = {"sklearn_barnes_hut": tsne}
    if fft_tsne_available():
        engines["opentsne_fft"] = tsne_fft
    row: dict[str, object] = {"n": n, "dim": dim, "iterations": iterations, "threads": threads,
                              "cpus": os.cpu_count() or 1}
    for i, (name, fn) in enumerate(engines.items()):
        t0 = time.perf_counter()
        coords = fn(features, params, scaled(progress, i / len(engines),
                                             (i + 1) / len(engines)), threads=threads)
        row[name] = {"seconds": round(time.perf_counter() - t0, 2),
                     "knn10_kept": round(knn_kept(features, coords), 3)}
    if "opentsne_fft" not in engines:
        row["opentsne_fft"] = None  # not installed
    row["load_average"] = round(os.getloadavg()[0], 2)
    log.info("bench %s", row)
    return row
