"""2-D projections of embeddings (PCA, t-SNE) and placing a new embedding on a projection."""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

from core.explore.params import ProjectionParams
from core.explore.progress import report, thread_stdout
from core.progress import FractionProgress

log = logging.getLogger(__name__)

PCA_DIMS = 50  # t-SNE and k-means run on this many principal components (speed, less noise)
# From this many points t-SNE runs on openTSNE's FFT gradient when it is installed: 28 s against
# scikit-learn's Barnes-Hut 45 s at 10,000 x 128, 38 s against 87 s at 20,000, keeping as many
# neighbours; at 5,000 scikit-learn's was faster (12 s against 17 s; docs/RESULTS.md, Explore).
FFT_MIN_POINTS = 10_000
_ITERATION = re.compile(r"Iteration (\d+)")


@dataclass
class Projection:
    """n×2 coordinates; for PCA also the linear map (mean, components) to place new points."""

    coords: np.ndarray
    method: str
    mean: np.ndarray | None = None
    components: np.ndarray | None = None
    seconds: float = 0.0


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); all-zero rows stay zero."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms > 0, norms, 1.0)


def reduce(unit_vectors: np.ndarray, dims: int = PCA_DIMS, seed: int = 0) -> np.ndarray:
    """The first ``dims`` principal components (the vectors themselves when already small)."""
    n, d = unit_vectors.shape
    if d <= dims or n <= dims:
        return np.array(unit_vectors, dtype=np.float32)
    pca = PCA(n_components=dims, random_state=seed, svd_solver="randomized")
    return pca.fit_transform(unit_vectors).astype(np.float32)


def effective_perplexity(n: int, perplexity: float) -> float:
    """scikit-learn needs perplexity < n; small sets get (n - 1) / 3."""
    return float(min(perplexity, max(1.0, (n - 1) / 3.0)))


def project(unit_vectors: np.ndarray, params: ProjectionParams,
            progress: FractionProgress | None = None,
            features: np.ndarray | None = None) -> Projection:
    """Project unit-length vectors to 2-D; t-SNE starts from ``features`` (PCA-50) if given."""
    params.validate()
    n = len(unit_vectors)
    if n < 3:
        raise ValueError(f"need at least 3 vectors to draw a map, got {n}")
    start = time.perf_counter()
    if params.method == "pca":
        report(progress, 0.0, "PCA")
        pca = PCA(n_components=2, svd_solver="full").fit(unit_vectors)
        coords = pca.transform(unit_vectors).astype(np.float32)
        proj = Projection(coords, "pca", pca.mean_.astype(np.float32),
                          pca.components_.astype(np.float32))
    else:
        feats = features if features is not None else reduce(unit_vectors, seed=params.seed)
        engine = tsne_fft if n >= FFT_MIN_POINTS and fft_tsne_available() else tsne
        proj = Projection(engine(feats, params, progress), "tsne")
    proj.seconds = time.perf_counter() - start
    report(progress, 1.0, f"{params.method} done in {proj.seconds:.1f}s")
    log.info("%s of %d points in %.1fs", params.method, n, proj.seconds)
    return proj


def idle_cores() -> int:
    """Cores not busy with other work right now (1-minute load average), at least 1.

    scikit-learn's t-SNE gradient runs OpenMP threads that synchronise every iteration; on a
    machine whose cores are already taken, two threads run 2-4x slower than one (measured
    here), so t-SNE only takes the cores that are idle.
    """
    cpus = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return cpus
    return max(1, min(cpus, int(cpus - busy + 0.5)))


def tsne(features: np.ndarray, params: ProjectionParams,
         progress: FractionProgress | None = None, threads: int | None = None) -> np.ndarray:
    """Barnes-Hut t-SNE on the idle cores; progress follows scikit-learn's iteration log."""
    n = len(features)
    total = int(params.iterations)
    threads = threads or idle_cores()

    def on_line(line: str) -> None:
        log.debug("%s", line)
        match = _ITERATION.search(line)
        if match:
            it = int(match.group(1))
            report(progress, 0.05 + 0.95 * it / total, f"t-SNE iteration {it}/{total}")
        elif "nearest neighbors" in line or "conditional probabilities in" in line:
            report(progress, 0.03, "t-SNE: neighbour graph")

    report(progress, 0.0, f"t-SNE of {n} points")
    model = TSNE(
        n_components=2, perplexity=effective_perplexity(n, params.perplexity),
        max_iter=total, init="pca", learning_rate="auto", random_state=int(params.seed),
        n_jobs=threads, verbose=2 if progress is not None else 0,
    )
    log.debug("t-SNE of %d points on %d thread(s)", n, threads)
    with thread_stdout(on_line), threadpool_limits(limits=threads, user_api="openmp"):
        coords = model.fit_transform(np.asarray(features, dtype=np.float32))
    return coords.astype(np.float32)


def fft_tsne_available() -> bool:
    """True when openTSNE (FFT-accelerated t-SNE) can be imported."""
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        return False
    return True


def tsne_fft(features: np.ndarray, params: ProjectionParams,
             progress: FractionProgress | None = None, threads: int | None = None
             ) -> np.ndarray:
    """openTSNE's FFT-interpolated t-SNE (Linderman et al., 2019) with the same perplexity,
    total iterations (250 of them early exaggeration, as scikit-learn's), PCA start and seed.
    """
    from openTSNE import TSNE as FFTTSNE

    n = len(features)
    total = int(params.iterations)
    early = min(250, total - 1)
    threads = threads or idle_cores()
    done = {"it": 0}

    def on_step(*_step) -> bool:  # (iteration, error, embedding) every 50 iterations
        done["it"] += 50
        report(progress, 0.05 + 0.95 * min(done["it"], total) / total,
               f"t-SNE iteration {min(done['it'], total)}/{total}")
        return False  # keep going

    report(progress, 0.0, f"t-SNE (FFT) of {n} points")
    model = FFTTSNE(n_components=2, perplexity=effective_perplexity(n, params.perplexity),
                    early_exaggeration_iter=early, n_iter=total - early, initialization="pca",
                    random_state=int(params.seed), n_jobs=threads,
                    negative_gradient_method="fft", callbacks=on_step,
                    callbacks_every_iters=50, verbose=False)
    with threadpool_limits(limits=threads):
        coords = np.asarray(model.fit(np.asarray(features, dtype=np.float32)))
    return coords.astype(np.float32)


def place_linear(mean: np.ndarray, components: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """A new embedding through the stored PCA map: (x, y)."""
    unit = normalise(np.atleast_2d(vector))[0]
    return ((unit - mean) @ components.T).astype(np.float32)


def nearest(unit_vectors: np.ndarray, vector: np.ndarray, k: int = 10
            ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``k`` most cosine-similar vectors and their similarities, best first."""
    unit = normalise(np.atleast_2d(vector))[0]
    sims = unit_vectors @ unit
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top])]
    return top, sims[top]


def place_by_neighbours(coords: np.ndarray, rows: np.ndarray, sims: np.ndarray,
                        temperature: float = 0.05) -> np.ndarray:
    """Weighted average of the neighbours' coordinates; closer neighbours weigh more.

    A softmax over cosine similarities keeps the point inside the nearest island instead of
    halfway between two (t-SNE has no transform for new points).
    """
    w = np.exp((sims - sims.max()) / temperature)
    w /= w.sum()
    return (w[:, None] * coords[rows]).sum(axis=0).astype(np.float32)
