"""Training of the composition model on frozen, precomputed image and text embeddings.

Both towers are frozen, so every caption is encoded once (and cached on disk); an epoch then
only runs the small combiner: seconds on a CPU. The loss is FashionVLP's batch-based
classification: InfoNCE of each composed query against the batch's targets.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from core.feedback.data import FeedbackData
from core.feedback.metrics import target_ranks
from core.feedback.model import (
    Combiner,
    CombinerConfig,
    TextProjection,
    batch_classification_loss,
)
from core.feedback.text import TextTower, normalise_text
from core.feedback.train_config import NEGATIVES, CombinerTrainConfig
from core.training import BestWeights, TrainResult, run_epochs, train_steps

log = logging.getLogger(__name__)


class CaptionBank:
    """Unique captions -> rows of one matrix of text vectors (encoded once, cached on disk)."""

    def __init__(self, tower: TextTower, texts: Iterable[str], cache: Path | None = None,
                 batch_size: int = 256, progress: Callable[[int, int], None] | None = None):
        keys = list(dict.fromkeys(normalise_text(t) for t in texts))
        cached = _read_cache(cache, tower.name, tower.dim)
        # Length-sorted batches waste little on padding: several times faster on a CPU.
        todo = sorted((k for k in keys if k not in cached), key=len)
        log.info("caption bank: %d unique captions, %d to encode", len(keys), len(todo))
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            cached.update(zip(chunk, tower.encode(chunk, batch_size=batch_size), strict=True))
            if progress:
                progress(min(start + batch_size, len(todo)), len(todo))
        if todo and cache is not None:
            _write_cache(cache, cached)
        self.row = {k: i for i, k in enumerate(keys)}
        self.matrix = (np.stack([cached[k] for k in keys]) if keys
                       else np.zeros((0, tower.dim), np.float32))

    def rows(self, texts: Iterable[str]) -> list[int]:
        return [self.row[normalise_text(t)] for t in texts]

    def encoder(self, tower: TextTower) -> Callable[[list[str]], np.ndarray]:
        """An encode function answering from the bank, falling back to the tower."""

        def encode(texts: list[str]) -> np.ndarray:
            keys = [normalise_text(t) for t in texts]
            if all(k in self.row for k in keys):
                return self.matrix[[self.row[k] for k in keys]]
            return tower.encode(texts)

        return encode


def _read_cache(path: Path | None, tower: str, dim: int) -> dict[str, np.ndarray]:
    if path is None or not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["tower"]) != tower or z["vectors"].shape[1] != dim:
                return {}
            return dict(zip(z["texts"].tolist(), z["vectors"], strict=True))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable caption cache %s: %s", path, exc)
        return {}


def _write_cache(path: Path, cached: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tower = path.stem.removeprefix("captions_")
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, tower=np.array(tower), texts=np.array(list(cached)),
             vectors=np.stack(list(cached.values())).astype(np.float32))
    tmp.replace(path)


def caption_cache_path(cache_dir: Path, tower: str) -> Path:
    return Path(cache_dir) / "feedback" / f"captions_{tower}.npz"


def examples(data: FeedbackData, bank: CaptionBank, split: str) -> list[tuple[int, int, list[int]]]:
    """(reference row, target row, caption rows) of the split's captioned pairs."""
    return [(data.row[p.reference], data.row[p.target], bank.rows(p.captions))
            for p in data.split_pairs(split) if p.captions]


def _batches(exs: list[tuple[int, int, list[int]]], size: int, rng: random.Random):
    order = list(range(len(exs)))
    rng.shuffle(order)
    for start in range(0, len(order), size):
        chunk = [exs[i] for i in order[start:start + size]]
        if len(chunk) < 2:
            continue
        yield (torch.tensor([c[0] for c in chunk]), torch.tensor([c[1] for c in chunk]),
               torch.tensor([rng.choice(c[2]) for c in chunk]))


@contextmanager
def single_thread():
    """Run a tiny model on one thread: on a busy CPU, thread hand-offs cost more than they save
    (measured 60x slower with 2 threads on a loaded 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit_pairs(model: torch.nn.Module, vectors: torch.Tensor, texts: torch.Tensor,
              train: list[tuple[int, int, list[int]]], cfg: CombinerTrainConfig, epochs: int, *,
              validate: Callable[[torch.nn.Module], float] | None = None,
              on_epoch: Callable[[dict], None] | None = None) -> TrainResult:
    """Training of the combiner or of the text-only baseline on (reference, target, captions)
    rows: AdamW + cosine schedule in the project's training loop (``core.training``),
    best-on-validation weights kept, early stop after ``cfg.patience`` flat epochs."""
    if cfg.negatives not in NEGATIVES:
        raise ValueError(f"negatives must be 'batch' or 'gallery', got {cfg.negatives!r}")
    with single_thread():
        return _fit(model, vectors, texts, train, cfg, epochs, validate, on_epoch)


def _loss_fn(vectors: torch.Tensor, train: list[tuple[int, int, list[int]]], negatives: str):
    """loss(model, query, target rows) for the chosen kind of negatives."""
    if negatives == "batch":
        return lambda model, q, tgt: batch_classification_loss(q, vectors[tgt], model.scale(),
                                                                tgt)
    rows = torch.tensor(sorted({t for _, t, _ in train}))
    pos = torch.full((len(vectors),), -1, dtype=torch.long)
    pos[rows] = torch.arange(len(rows))
    gallery = vectors[rows]
    return lambda model, q, tgt: torch.nn.functional.cross_entropy(
        model.scale() * q @ gallery.T, pos[tgt])


def _fit(model, vectors, texts, train, cfg: CombinerTrainConfig, epochs: int, validate,
         on_epoch) -> TrainResult:
    torch.manual_seed(cfg.seed)
    loss_fn = _loss_fn(vectors, train, cfg.negatives)
    rng = random.Random(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = max(1, epochs * max(1, len(train) // cfg.batch_size + 1))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)

    def batch_loss(batch) -> torch.Tensor:
        ref, tgt, cap = batch
        img = vectors[ref]
        if cfg.ref_noise > 0:
            img = torch.nn.functional.normalize(img + cfg.ref_noise * torch.randn_like(img),
                                                dim=1)
        return loss_fn(model, model(img, texts[cap]), tgt)

    def train_epoch(epoch: int) -> dict:
        t0 = time.perf_counter()
        losses = train_steps(model, _batches(train, cfg.batch_size, rng), batch_loss, opt,
                             epoch=epoch, scheduler=sched).losses
        return {"loss": round(float(np.mean(losses)) if losses else 0.0, 4),
                "seconds": round(time.perf_counter() - t0, 2)}

    result = run_epochs(train_epoch, epochs=epochs, score_key="val_r10",
                        validate=(lambda _row: {"val_r10": round(validate(model), 4)})
                        if validate is not None else None,
                        best=BestWeights(model), on_epoch=on_epoch,
                        patience=cfg.patience if validate is not None else 0)
    model.eval()
    return result


def _validator(data: FeedbackData, bank: CaptionBank, vectors: torch.Tensor, texts: torch.Tensor,
               split: str = "val") -> Callable[[torch.nn.Module], float] | None:
    exs = examples(data, bank, split)
    gallery = data.rows(split)
    if not exs or len(gallery) < 2:
        return None

    def validate(model: torch.nn.Module) -> float:
        with torch.inference_mode():
            q = model(vectors[[e[0] for e in exs]], texts[[e[2][0] for e in exs]]).numpy()
        ranks = target_ranks(q, vectors.numpy(), [e[1] for e in exs], gallery,
                             exclude=[e[0] for e in exs])
        return float((ranks < 10).mean())

    return validate


def train_combiner(data: FeedbackData, bank: CaptionBank, cfg: CombinerTrainConfig, *,
                   text_tower: str = "minilm", image_model: str = "studio_encoder",
                   on_epoch: Callable[[dict], None] | None = None
                   ) -> tuple[Combiner, TextProjection, dict]:
    """Train the combiner and the text-only baseline on the train split, select on val."""
    vectors = torch.from_numpy(np.ascontiguousarray(data.vectors))
    texts = torch.from_numpy(np.ascontiguousarray(bank.matrix))
    train = examples(data, bank, "train")
    if not train:
        raise ValueError("no captioned training pairs in the train split")
    validate = _validator(data, bank, vectors, texts)
    mcfg = CombinerConfig(img_dim=vectors.shape[1], txt_dim=texts.shape[1], hidden=cfg.hidden,
                          dropout=cfg.dropout, text_tower=text_tower, image_model=image_model)
    torch.manual_seed(cfg.seed)
    model = Combiner(mcfg)
    result = fit_pairs(model, vectors, texts, train, cfg, cfg.epochs, validate=validate,
                       on_epoch=on_epoch)
    baseline = TextProjection(mcfg.txt_dim, mcfg.img_dim)
    base = fit_pairs(baseline, vectors, texts, train, cfg, cfg.baseline_epochs,
                     validate=validate)
    return model, baseline, {"history": result.history, "baseline_history": base.history,
                             "train_examples": len(train)}
