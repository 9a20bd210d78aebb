"""`bench ingest`: the embedding job's throughput against the raw model forward."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core.models.embed import Embedder, Job, run_job

log = logging.getLogger(__name__)


def sample_images(out_dir: Path, n: int, size: int = 256, seed: int = 0) -> list[Path]:
    """Write ``n`` JPEG product pictures (demo renders when available, else synthetic)."""
    from PIL import Image, ImageDraw

    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(200, 256, 3)))
        draw = ImageDraw.Draw(img)
        x0, y0 = rng.integers(10, size // 3, 2)
        x1, y1 = rng.integers(2 * size // 3, size - 10, 2)
        draw.rectangle([int(x0), int(y0), int(x1), int(y1)],
                       fill=tuple(int(v) for v in rng.integers(0, 200, 3)))
        p = out_dir / f"img_{i:05d}.jpg"
        img.save(p, quality=90)
        paths.append(p)
    return paths


def forward_rate(embedder: Embedder, batch: torch.Tensor, repeats: int = 3) -> float:
    """Images per second of the model alone on an already preprocessed batch."""
    embedder.embed_tensor(batch)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        embedder.embed_tensor(batch)
    return repeats * len(batch) / (time.perf_counter() - start)


def job_rate(embedder: Embedder, paths: list[Path], batch_size: int,
             workers: int | None = None) -> float:
    """Images per second of the whole job (decode, mask, preprocess, forward) into a sink."""
    jobs = [Job(f"bench-{i}", p, None) for i, p in enumerate(paths)]
    stored: list[int] = []
    start = time.perf_counter()
    run_job(embedder, jobs, lambda skus, _v: stored.append(len(skus)), batch_size=batch_size,
            workers=workers)
    rate = sum(stored) / (time.perf_counter() - start)
    return rate


def bench_ingest(settings, models: list[tuple[str, str | None]], *, n_images: int = 256,
                 batch_size: int = 64, workers: int | None = None) -> dict:
    """Rows {model, job_images_per_s, forward_images_per_s, ratio} for each (backbone, weights)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        paths = sample_images(Path(tmp), n_images)
        for backbone, weights in models:
            torch.manual_seed(0)
            emb = Embedder(backbone, settings, weights=weights)
            from core.models.preprocess import load_rgb

            batch = torch.stack([emb.transform(load_rgb(p)) for p in paths[:batch_size]])
            fwd = forward_rate(emb, batch, repeats=max(1, n_images // batch_size))
            job = job_rate(emb, paths, batch_size, workers)
            label = backbone if weights is not None else f"{backbone} (random init)"
            rows.append({"model": label,
                         "job_images_per_s": round(job, 1), "forward_images_per_s": round(fwd, 1),
                         "ratio": round(job / fwd, 3), "images": n_images,
                         "batch_size": batch_size})
            log.info("bench %s", rows[-1])
    return {"rows": rows}
