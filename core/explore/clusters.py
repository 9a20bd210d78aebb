"""k-means clusters of embeddings, a silhouette suggestion for k, and cluster summaries."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from core.explore.progress import report
from core.progress import FractionProgress

log = logging.getLogger(__name__)

SUMMARY_ATTRS = ("category", "color", "pattern", "season")
SILHOUETTE_SAMPLE = 2000  # silhouette is O(n²): score a sample
K_MAX = 20  # the k suggestion tries 2..K_MAX


@dataclass
class Clustering:
    """Labels per row, the rows nearest each centroid (best first) and a quality score."""

    labels: np.ndarray
    representatives: list[list[int]]
    silhouette: float | None
    seconds: float = 0.0


@dataclass
class KSuggestion:
    """The k with the best silhouette score, and the score of every k tried."""

    k: int
    scores: dict[int, float]


@dataclass
class ClusterSummary:
    """What a cluster holds: its size and its dominant attribute values with their shares."""

    id: int
    size: int
    share: float
    top: dict[str, tuple[str, float]] = field(default_factory=dict)
    representatives: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["top"] = {k: {"value": v, "share": s} for k, (v, s) in self.top.items()}
        return out


def _sample(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def _silhouette(features: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    rows = _sample(len(features), SILHOUETTE_SAMPLE, seed)
    if len(set(labels[rows].tolist())) < 2 or len(rows) <= len(set(labels[rows].tolist())):
        return None
    return float(silhouette_score(features[rows], labels[rows]))


def cluster(features: np.ndarray, k: int, seed: int = 0, n_representatives: int = 6,
            progress: FractionProgress | None = None) -> Clustering:
    """k-means with ``k`` clusters (k is capped at the number of rows)."""
    n = len(features)
    if k < 1:
        raise ValueError(f"clusters must be at least 1, got {k}")
    k = min(int(k), n)
    start = time.perf_counter()
    report(progress, 0.0, f"k-means, k={k}")
    km = KMeans(n_clusters=k, n_init=4, random_state=int(seed)).fit(features)
    labels = km.labels_.astype(np.int32)
    dist = np.linalg.norm(features - km.cluster_centers_[labels], axis=1)
    reps = []
    for c in range(k):
        rows = np.flatnonzero(labels == c)
        reps.append(rows[np.argsort(dist[rows])][:n_representatives].tolist())
    report(progress, 0.8, "silhouette score")
    score = _silhouette(features, labels, seed) if k > 1 else None
    seconds = time.perf_counter() - start
    report(progress, 1.0, f"k-means done in {seconds:.1f}s")
    return Clustering(labels, reps, score, seconds)


def suggest_k(features: np.ndarray, k_min: int = 2, k_max: int = K_MAX, seed: int = 0,
              sample: int = SILHOUETTE_SAMPLE,
              progress: FractionProgress | None = None) -> KSuggestion:
    """Try k in [k_min, k_max] with k-means on a sample; pick the best silhouette score."""
    rows = _sample(len(features), sample, seed)
    x = features[rows]
    k_max = min(k_max, len(x) - 1)
    if k_max < k_min:
        raise ValueError(f"need more than {k_min} vectors to suggest a number of clusters")
    scores: dict[int, float] = {}
    ks = range(k_min, k_max + 1)
    for i, k in enumerate(ks):
        report(progress, i / len(ks), f"trying k={k}")
        labels = KMeans(n_clusters=k, n_init=2, random_state=int(seed)).fit_predict(x)
        scores[k] = float(silhouette_score(x, labels)) if len(set(labels)) > 1 else -1.0
    best = max(scores, key=lambda k: (round(scores[k], 6), -k))
    report(progress, 1.0, f"suggested k={best}")
    log.info("silhouette by k: %s -> %d", {k: round(s, 3) for k, s in scores.items()}, best)
    return KSuggestion(best, scores)


def _top(values: Sequence[str]) -> tuple[str, float]:
    known = [v for v in values if v and v != "unknown"]
    if not known:
        return "unknown", 0.0
    value, count = Counter(known).most_common(1)[0]
    return value, count / len(values)


def summarise(labels: np.ndarray, attrs: dict[str, Sequence[str]],
              representatives: list[list[str]]) -> list[ClusterSummary]:
    """One summary per cluster id present in ``labels`` (attrs: column name -> value per row)."""
    n = len(labels)
    out = []
    for c in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == c)
        top = {name: _top([col[i] for i in rows]) for name, col in attrs.items()}
        reps = representatives[c] if c < len(representatives) else []
        out.append(ClusterSummary(int(c), len(rows), len(rows) / n, top, list(reps)))
    return out
