"""Training of the studio encoder and the category classifier (in the shared loop).

Mixed objective per batch: partial-label category cross-entropy (label smoothing), colour
cross-entropy on renders, and triplet loss with online mining on the fused embedding.
Adam(W), ReduceLROnPlateau or one-cycle, checkpoints, curves PNG, early stopping, time budget.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from core.models.augment import augment
from core.models.data import PHOTO_IDENT_OFFSET, TensorSet
from core.models.labels import DETAIL_NAMES, attr_targets
from core.models.losses import group_cross_entropy, triplet_loss
from core.models.preprocess import PreprocessCfg, normalise_batch
from core.models.train_config import EncoderTrainConfig
from core.training import BestWeights, TrainResult, run_epochs, train_steps

log = logging.getLogger(__name__)


class Batcher:
    """Mixes photo batches (uniform) with render batches (P items x K pictures each)."""

    def __init__(self, photos: TensorSet | None, demo: TensorSet | None, cfg: EncoderTrainConfig):
        self.photos, self.demo, self.cfg = photos, demo, cfg
        self.gen = torch.Generator().manual_seed(cfg.seed)
        share = cfg.demo_fraction if (photos is not None and demo is not None) else (
            1.0 if demo is not None else 0.0)
        self.n_demo = int(round(cfg.batch_size * share / cfg.demo_k)) * cfg.demo_k
        self.n_photo = cfg.batch_size - self.n_demo if photos is not None else 0
        total = (len(photos) if photos is not None else 0) + (len(demo) if demo is not None else 0)
        self.steps = max(1, total // cfg.batch_size)
        if demo is not None:
            ids = demo.ident
            self.demo_ids = torch.unique(ids)
            self.by_id = {int(i): torch.nonzero(ids == i).flatten() for i in self.demo_ids}
            self.buckets = self._buckets() if cfg.demo_group > 1 else {}

    def __iter__(self):
        for _ in range(self.steps):
            parts = []
            if self.n_photo:
                parts.append(self.photos.subset(
                    torch.randint(len(self.photos), (self.n_photo,), generator=self.gen)))
            if self.n_demo:
                parts.append(self.demo.subset(self._demo_indices()))
            yield TensorSet.concat(parts) if len(parts) > 1 else parts[0]

    def _buckets(self) -> dict[int, list[int]]:
        """Item id -> the ids of every item sharing its category and colour (itself included)."""
        by_key: dict[tuple, list[int]] = {}
        for i, rows in self.by_id.items():
            r = int(rows[0])
            by_key.setdefault((self.demo.labels[r], int(self.demo.color[r])), []).append(i)
        return {i: members for members in by_key.values() for i in members}

    def _pick_items(self, p: int) -> list[int]:
        """``p`` distinct item ids; with demo_group > 1, in groups of look-alikes."""
        order = self.demo_ids[torch.randperm(len(self.demo_ids), generator=self.gen)].tolist()
        if self.cfg.demo_group <= 1:
            return order[:p]
        chosen: list[int] = []
        seen: set[int] = set()
        for seed in order:
            if len(chosen) >= p:
                break
            if seed in seen:
                continue
            mates = [m for m in self.buckets[seed] if m != seed and m not in seen]
            take = torch.randperm(len(mates), generator=self.gen)[:self.cfg.demo_group - 1]
            group = [seed] + [mates[j] for j in take.tolist()]
            group = group[:p - len(chosen)]
            chosen += group
            seen.update(group)
        return chosen

    def _demo_indices(self) -> torch.Tensor:
        p = self.n_demo // self.cfg.demo_k
        out = []
        for i in self._pick_items(p):
            rows = self.by_id[i]
            order = torch.randint(len(rows), (self.cfg.demo_k,), generator=self.gen)
            if len(rows) >= self.cfg.demo_k:
                order = torch.randperm(len(rows), generator=self.gen)[:self.cfg.demo_k]
            out.append(rows[order])
        return torch.cat(out)


def batch_loss(model, batch: TensorSet, cfg: EncoderTrainConfig, pre: PreprocessCfg,
               gen: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    """The mixed objective on one batch; returns (loss, its parts)."""
    if cfg.heads_only:
        z = model.proj(batch.images.to(cfg.device))
    elif cfg.tail_only:
        h = batch.images.to(cfg.device).float()
        flip = torch.rand(len(h), generator=gen) < 0.5  # mirror: flip the feature maps
        h[flip] = h[flip].flip(-1)
        z = model.tail_features(h)
    else:
        x = normalise_batch(augment(batch.images, cfg.crop_size, gen, strength=cfg.aug_strength),
                            pre).to(cfg.device)
        z = model.features(x)
    cat_logits, col_logits = model.heads(z)
    loss = group_cross_entropy(cat_logits, batch.groups.to(cfg.device), cfg.label_smoothing)
    parts = {"cat": loss.item()}
    known = batch.color >= 0
    if cfg.color_weight and col_logits is not None and known.any():
        col = F.cross_entropy(col_logits[known.to(cfg.device)], batch.color[known].to(cfg.device))
        loss = loss + cfg.color_weight * col
        parts["color"] = col.item()
    if model.attr_heads is not None:
        for part, (weight, head_loss) in _head_losses(model, z, batch, cfg).items():
            loss = loss + weight * head_loss
            parts[part] = head_loss.item()
    if cfg.triplet_weight:
        fused = z
        if model.attr_mlp is not None:
            keep = (torch.rand(len(z), 1, generator=gen) >= cfg.attr_dropout).float()
            fused = z + model.attr_mlp((batch.attrs * keep).to(cfg.device))
        trip = _triplets(model, fused, batch, cfg)
        loss = loss + cfg.triplet_weight * trip
        parts["triplet"] = trip.item()
    return loss, parts


def _head_losses(model, z: torch.Tensor, batch: TensorSet, cfg: EncoderTrainConfig) -> dict:
    """{"attrs" | "details": (weight, mean cross-entropy of those heads over the pictures whose
    value is known)} for the head groups with a weight and a known value in the batch."""
    targets = {**attr_targets(batch.attrs),
               **dict(zip(DETAIL_NAMES, batch.detail_rows().T, strict=True))}
    terms: dict[str, list] = {"attrs": [], "details": []}
    for name, logits in model.attr_logits(z).items():
        known = targets[name] >= 0
        if known.any():
            terms["details" if name in DETAIL_NAMES else "attrs"].append(F.cross_entropy(
                logits[known.to(cfg.device)], targets[name][known].to(cfg.device)))
    weights = {"attrs": cfg.attr_weight, "details": cfg.detail_weight}
    return {part: (weights[part], torch.stack(t).mean()) for part, t in terms.items()
            if t and weights[part]}


class WeightAverage:
    """The mean of several state dicts, key by key: floating-point entries (weights and
    BatchNorm statistics) are averaged over the dicts that have them, others keep the last."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.other: dict[str, torch.Tensor] = {}
        self.epochs: list[int] = []

    def add(self, state: dict[str, torch.Tensor], epoch: int | None = None) -> None:
        for key, value in state.items():
            if value.is_floating_point():
                v = value.detach().float().cpu()
                self.sums[key] = self.sums[key] + v if key in self.sums else v.clone()
                self.counts[key] = self.counts.get(key, 0) + 1
            else:
                self.other[key] = value.detach().cpu().clone()
        if epoch is not None:
            self.epochs.append(int(epoch))

    def state(self) -> dict[str, torch.Tensor]:
        return {**self.other, **{k: v / self.counts[k] for k, v in self.sums.items()}}


def run_share(cfg: EncoderTrainConfig, row: dict) -> float:
    """How far into the run an epoch's row is: of the wall-time budget when there is one,
    else of the epochs."""
    if cfg.max_minutes:
        return float(row.get("minutes", 0.0)) / cfg.max_minutes
    return float(row["epoch"]) / max(1, cfg.epochs)


class BudgetSchedule:
    """Learning rate as a function of the elapsed share of the wall-time budget."""

    def __init__(self, opt, cfg: EncoderTrainConfig, warmup: float = 0.05):
        if not cfg.max_minutes:
            raise ValueError("schedule 'budget' needs max_minutes")
        self.opt, self.lr, self.warmup = opt, cfg.lr, warmup
        self.budget = cfg.max_minutes * 60
        self.start = time.monotonic()
        self.step()

    @property
    def progress(self) -> float:
        return (time.monotonic() - self.start) / self.budget

    def step(self) -> None:
        t = min(self.progress, 1.0)
        if t < self.warmup:
            lr = self.lr * (0.05 + 0.95 * t / self.warmup)
        else:
            lr = self.lr * (0.002 + 0.998 * 0.5 * (1 + math.cos(math.pi * (t - self.warmup)
                                                                  / (1 - self.warmup))))
        for group in self.opt.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)


def _triplets(model, fused: torch.Tensor, batch: TensorSet, cfg: EncoderTrainConfig
              ) -> torch.Tensor:
    """Item triplets on the fused embedding for renders (several pictures of one item); class
    triplets on the category chunk only for real photos (one picture each, class identity)."""
    ident = batch.ident.to(cfg.device)
    coloured = (batch.ident < PHOTO_IDENT_OFFSET).to(cfg.device)
    total = fused.sum() * 0.0
    if coloured.any():
        items = fused[coloured]
        emb = (F.normalize(items[:, -model.chunks[2]:], dim=1)
               if cfg.item_triplet_on == "identity" else model.embed(items))
        total = total + triplet_loss(emb, ident[coloured], cfg.margin, cfg.mining)
    if (~coloured).any():
        cat_chunk = F.normalize(fused[~coloured][:, :model.chunks[0]], dim=1)
        total = total + triplet_loss(cat_chunk, ident[~coloured], cfg.margin, cfg.mining)
    return total


def _scheduler(opt, cfg: EncoderTrainConfig, steps_per_epoch: int):
    if cfg.schedule == "budget":
        return BudgetSchedule(opt, cfg)
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[cfg.lr * g.get("lr_scale", 1.0) for g in opt.param_groups],
            epochs=cfg.epochs, steps_per_epoch=steps_per_epoch,
            pct_start=0.15, div_factor=20, final_div_factor=200)
    if cfg.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, "max", factor=0.3,
                                                          patience=max(1, cfg.patience // 3))
    raise ValueError(f"schedule must be plateau, onecycle or budget, got {cfg.schedule!r}")


def fit_encoder(model, batcher: Batcher, validate: Callable[[object], dict],
                cfg: EncoderTrainConfig, pre: PreprocessCfg, save: Callable[[object, dict], None],
                out_dir: Path | None = None,
                save_last: Callable[[object, dict], None] | None = None, *,
                on_step: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train until epochs, patience, the time budget (which also cuts the epoch under way
    short), divergence or a stop request end the run (the shared loop, ``core.training``);
    ``save`` writes each new best epoch's
    checkpoint (the best weights are kept on disk, the model ends with the last epoch's),
    ``save_last`` (if given) gets every epoch, ``on_step(epoch, step)`` every step."""
    torch.manual_seed(cfg.seed)
    model.to(cfg.device)
    opt = torch.optim.AdamW(param_groups(model, cfg), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _scheduler(opt, cfg, batcher.steps)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    start = time.monotonic()
    per_step = sched if cfg.schedule in ("onecycle", "budget") else None
    deadline = start + cfg.max_minutes * 60 if cfg.max_minutes else None

    def budget_spent() -> bool:
        """The wall-time budget ran out: the epoch under way ends early, is validated, and
        the run ends after it (not a whole epoch later)."""
        return deadline is not None and time.monotonic() >= deadline

    def train_epoch(epoch: int) -> dict:
        steps = train_steps(model, batcher, lambda b: batch_loss(model, b, cfg, pre, gen), opt,
                            epoch=epoch, scheduler=per_step, clip_norm=5.0, on_step=on_step,
                            should_stop=should_stop, end_epoch=budget_spent)
        n = max(len(steps.losses), 1)
        parts = {f"loss_{k}": round(sum(v) / n, 4) for k, v in steps.parts.items()}
        return {"train_loss": round(sum(steps.losses) / n, 4), **parts}

    def validation(row: dict) -> dict:
        val = validate(model)
        score = float(val.get("score", -row["train_loss"]))
        if cfg.schedule == "plateau":
            sched.step(score)
        return {**val, "score": score, "lr": opt.param_groups[0]["lr"],
                "minutes": round((time.monotonic() - start) / 60, 2)}

    def after_epoch(row: dict) -> None:
        log.info("epoch %s", json.dumps(row))
        if save_last is not None:
            save_last(model, row)
        if out_dir is not None:
            write_curves(result, Path(out_dir))

    result = TrainResult()
    return run_epochs(train_epoch, epochs=cfg.epochs, validate=validation,
                      best=BestWeights(model, save=save, in_memory=False), on_epoch=after_epoch,
                      patience=cfg.patience if cfg.schedule == "plateau" else 0,
                      max_minutes=cfg.max_minutes, result=result)


def param_groups(model, cfg: EncoderTrainConfig) -> list[dict]:
    """The optimiser's groups: heads and projection at ``lr``, the trunk's trainable part at
    ``lr x trunk_lr_scale`` (none with heads_only); a split trunk's frozen part is excluded."""
    trunk = [] if cfg.heads_only else list(
        getattr(model.trunk, "trainable_parameters", model.trunk.parameters)())
    keep = {id(p) for p in trunk}
    for p in model.trunk.parameters():
        p.requires_grad_(id(p) in keep)
    groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("trunk.")]}]
    if trunk:
        scale = cfg.trunk_lr_scale
        groups.append({"params": trunk, "lr": cfg.lr * scale, "lr_scale": scale})
    return groups


def write_curves(result: TrainResult, out_dir: Path, name: str = "training_curves.png"
                 ) -> Path:
    """Training loss and validation metrics per epoch as a PNG (matplotlib, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result.history
    epochs = [r["epoch"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for key in [k for k in rows[0] if k.startswith("loss") or k == "train_loss"]:
        a.plot(epochs, [r.get(key) for r in rows], label=key)
    a.set_xlabel("epoch")
    a.set_title("training loss")
    a.legend()
    val_keys = [k for k in rows[0] if k.startswith("val_")] or ["score"]
    for key in val_keys:
        b.plot(epochs, [r.get(key) for r in rows], label=key)
    b.set_xlabel("epoch")
    b.set_title("validation")
    b.legend()
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def config_dict(cfg: EncoderTrainConfig) -> dict:
    return asdict(cfg)
