"""Training recipes: assemble data (real photos and/or demo renders), validation and saving."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.models.data import (
    PHOTO_IDENT_OFFSET,
    TensorSet,
    demo_set,
    photo_set,
    read_photo_labels,
    split_holdout,
    variant_pairs,
)
from core.models.labels import DETAIL_NAMES, HEAD_ATTRS
from core.models.metrics import (
    class_topk,
    features_u8,
    precision_at_k,
    recall_at_1,
)
from core.models.studio import (
    LITE_FILE,
    SCRATCH_TRUNK,
    STUDIO_FILE,
    add_attr_heads,
    load_checkpoint,
    new_encoder,
    preprocess_of,
    save_checkpoint,
    trunk_of,
)
from core.models.train import (
    Batcher,
    EncoderTrainConfig,
    WeightAverage,
    config_dict,
    fit_encoder,
    run_share,
    write_curves,
)

log = logging.getLogger(__name__)
CLASSIFIER_FILE = "studio_classifier.pt"


@dataclass
class DataSpec:
    """Where the training data comes from (real photo class folders, demo catalog folder)."""

    real: Path | None = None
    demo: Path | None = None
    demo_variants: int = 3
    holdout: float = 0.1
    workers: int = 2
    real_labels: tuple[Path, ...] = ()  # colour labels files of some real photos

    def describe(self) -> dict:
        return {"real": str(self.real) if self.real else None,
                "real_split": "train (minus a 10% stratified hold-out for validation)",
                "real_labels": [str(p) for p in self.real_labels],
                "demo": str(self.demo) if self.demo else None,
                "demo_splits": "train (variants 0.."
                               f"{self.demo_variants - 1}), val for validation"}


def photo_root(path: Path, split: str = "train") -> Path:
    """``path/split`` when the data set has splits, else ``path`` itself."""
    path = Path(path)
    return path / split if (path / split).is_dir() else path


def load_training_data(spec: DataSpec, size: int) -> tuple[dict, dict]:
    """(train sets, validation sets) keyed by source name."""
    train, val = {}, {}
    if spec.real is not None:
        photos = photo_set(photo_root(spec.real), size, ident_offset=PHOTO_IDENT_OFFSET,
                           workers=spec.workers, labels=read_photo_labels(spec.real_labels))
        train["photos"], val["photos"] = split_holdout(photos, spec.holdout, seed=0)
    if spec.demo is not None:
        train["demo"] = demo_set(spec.demo, size, split="train",
                                 variants=range(spec.demo_variants), workers=spec.workers)
        val["demo"] = demo_set(spec.demo, size, split="val", variants=(0, 1),
                               workers=spec.workers)
    if not train:
        raise ValueError("no training data: give real photos and/or a demo catalog")
    return train, val


@torch.inference_mode()
def validation_metrics(model, val: dict[str, TensorSet], device: str = "cpu") -> dict:
    """Held-out photo class accuracy and demo retrieval (variant 1 query, variant 0 gallery)."""
    out: dict[str, float] = {}
    parts = []
    pre = preprocess_of(model)
    if "photos" in val:
        photos = val["photos"]
        z = features_u8(model, photos.images, pre, device=device)
        probs = model.category_probs(z).numpy()
        out["val_photo_top1"] = class_topk(probs, photos.labels)["top1"]
        parts.append(out["val_photo_top1"])
        known = (photos.color >= 0).numpy()
        if known.any():  # labelled photos: the colour head read back
            colour = model.heads(z)[1].argmax(1).numpy()
            out["val_photo_color"] = round(float((colour[known] == photos.color.numpy()[known])
                                                 .mean()), 4)
    if "demo" in val:
        # Category and colour P@10 are measured on their own chunks: how well each chunk
        # clusters, whatever weights `train tune` gives them afterwards (with the fused
        # embedding, a sharper category chunk lowers colour P@10 and the epoch looks no better).
        d = val["demo"]
        z = features_u8(model, d.images, pre, device=device)
        emb = model.embed(z).numpy()
        cat_z, col_z, _ = (c.numpy() for c in model.unit_chunks(z))
        q, g = variant_pairs(d)
        ids = d.ident.numpy()
        cats = np.array(d.labels)
        cols = d.color.numpy()
        out["val_demo_r1_item"] = round(recall_at_1(emb[q], emb[g], ids[q], ids[g]), 4)
        out["val_demo_p10_cat"] = round(precision_at_k(cat_z[q], cat_z[g], cats[q], cats[g]), 4)
        out["val_demo_p10_color"] = round(precision_at_k(col_z[q], col_z[g], cols[q], cols[g]),
                                          4)
        parts += [out["val_demo_r1_item"], out["val_demo_p10_cat"], out["val_demo_p10_color"]]
    out["score"] = round(float(np.mean(parts)), 4) if parts else 0.0
    return out


def train_encoder(kind: str, spec: DataSpec, cfg: EncoderTrainConfig, out_dir: Path, *,
                widths: tuple[int, ...] | None = None, blocks: tuple[int, ...] | None = None,
                init: Path | None = None, image_size: int | None = None,
                trunk: str = SCRATCH_TRUNK, cut: int | None = None) -> dict:
    """Train the encoder (kind='encoder') or a classifier-only model; returns a summary.
    ``image_size`` sets the input side (default: the --init checkpoint's, else the trunk's).
    ``trunk`` "studio" starts from random weights; an EfficientNet-Lite name starts from its
    ImageNet weights (frozen before block ``cut``)."""
    if kind == "classifier":
        cfg.triplet_weight, cfg.color_weight = 0.0, 0.0
    model = load_checkpoint(init)[0] if init else new_encoder(
        widths=widths, blocks=blocks, trunk=trunk, cut=cut, pretrained=trunk != SCRATCH_TRUNK)
    if cfg.attr_weight:  # a warm start gains the heads here
        add_attr_heads(model, HEAD_ATTRS)
    if cfg.detail_weight:
        add_attr_heads(model, DETAIL_NAMES)
    if image_size:
        if image_size < cfg.crop_size and not cfg.tail_only:  # tail_only views use the side
            raise ValueError(f"--image-size {image_size} is smaller than --crop-size "
                             f"{cfg.crop_size}")
        model.image_size = int(image_size)
    pre = preprocess_of(model)
    train, val = load_training_data(spec, pre.size)
    out_dir = Path(out_dir)
    name = LITE_FILE if trunk_of(model) != SCRATCH_TRUNK else STUDIO_FILE
    path = out_dir / (name if kind == "encoder" else CLASSIFIER_FILE)
    extra = {"train_config": config_dict(cfg), "data": spec.describe(), "kind": kind}

    def save(m, row: dict) -> None:
        save_checkpoint(m, path, metrics=row, half=True, extra=extra)

    average = WeightAverage() if cfg.average_from is not None else None

    def save_last(m, row: dict) -> None:  # the annealed end of a budget run, for `train tune`
        save_checkpoint(m, path.with_name(path.stem + "_last.pt"), metrics=row, half=True,
                        extra=extra)
        if average is not None and run_share(cfg, row) >= cfg.average_from:
            average.add(m.state_dict(), row["epoch"])
            avg = copy.deepcopy(m)
            avg.load_state_dict(average.state())
            save_checkpoint(avg, path.with_name(path.stem + "_avg.pt"), half=True,
                            metrics={**row, "averaged_epochs": list(average.epochs)},
                            extra=extra)

    train, val = cached_sets(model, train, val, cfg, warm=init is not None)
    batcher = Batcher(train.get("photos"), train.get("demo"), cfg)
    log.info("training %s: %s steps/epoch, %d photos, %d renders", kind, batcher.steps,
             len(train["photos"]) if "photos" in train else 0,
             len(train["demo"]) if "demo" in train else 0)
    result = fit_encoder(model, batcher, lambda m: validation_metrics(m, val, cfg.device), cfg,
                         pre, save, save_last=save_last)
    curves = (write_curves(result, out_dir, name=path.stem + "_curves.png")
              if result.history else None)
    return {"file": str(path), "curves": str(curves) if curves else None,
            "best": result.best_row, "epochs": len(result.history),
            "stopped": result.stopped or "epochs done"}


def cached_sets(model, train: dict, val: dict, cfg: EncoderTrainConfig, *, warm: bool,
                progress: Callable[[int, int], None] | None = None) -> tuple[dict, dict]:
    """The training and validation sets as the run consumes them: images, cached trunk
    features (heads_only, a trained trunk) or a split trunk's cached frozen-part features of
    several views (tail_only). ``progress(done, total)`` follows a split trunk's caching
    after every batch, in images of both sets; it may raise to end the run there."""
    if cfg.heads_only:
        if not warm:
            raise ValueError("--heads-only needs --init CHECKPOINT (a trained trunk)")
        train = {k: feature_set(model, ts, cfg.device) for k, ts in train.items()}
    if cfg.tail_only:
        if not getattr(model.trunk, "cut", 0):
            raise ValueError("--tail-only needs a pretrained trunk split at a block (--cut N)")
        gen = torch.Generator().manual_seed(cfg.seed + 7)
        total = cfg.cache_views * sum(map(len, train.values())) + sum(map(len, val.values()))
        done = 0

        def cached(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, total)

        train = {k: cut_feature_set(model, ts, cfg, gen, views=cfg.cache_views, on_batch=cached)
                 for k, ts in train.items()}
        val = {k: cut_feature_set(model, ts, cfg, gen, views=1, on_batch=cached)
               for k, ts in val.items()}
    return train, val


@torch.inference_mode()
def feature_set(model, ts: TensorSet, device: str = "cpu", batch_size: int = 128) -> TensorSet:
    """Replace images by cached trunk features (plus their mirror images as extra samples)."""
    from core.models.augment import center_resize
    from core.models.preprocess import normalise_batch

    model.eval()
    pre = preprocess_of(model)
    feats = []
    for flip in (False, True):
        for s in range(0, len(ts), batch_size):
            x = normalise_batch(center_resize(ts.images[s:s + batch_size], pre.size), pre)
            feats.append(model.trunk((x.flip(-1) if flip else x).to(device)).cpu())
    both = TensorSet.concat([ts, ts])
    both.images = torch.cat(feats)
    return both


@torch.inference_mode()
def cut_feature_set(model, ts: TensorSet, cfg: EncoderTrainConfig, gen: torch.Generator, *,
                    views: int, batch_size: int = 64,
                    on_batch: Callable[[int], None] | None = None) -> TensorSet:
    """Replace images by a split trunk's frozen-part features (float16): the plain view, then
    ``views - 1`` augmented views (random crop, mirror, light jitter) of every picture.
    ``on_batch(n)`` gets the number of images of each batch once it is cached."""
    from tqdm import tqdm

    from core.models.augment import augment, center_resize
    from core.models.preprocess import normalise_batch

    model.eval()
    pre = preprocess_of(model)
    parts = []
    bar = tqdm(total=len(ts) * views, desc="caching trunk features", unit="img",
               mininterval=30)
    for v in range(views):
        feats = []
        for s in range(0, len(ts), batch_size):
            chunk = ts.images[s:s + batch_size]
            x = center_resize(chunk, pre.size) if v == 0 else augment(
                chunk, pre.size, gen, strength=cfg.aug_strength)
            feats.append(model.trunk.frozen(normalise_batch(x, pre).to(cfg.device)).half().cpu())
            bar.update(len(chunk))
            if on_batch is not None:
                on_batch(len(chunk))
        view_set = ts.subset(torch.arange(len(ts)))
        view_set.images = torch.cat(feats)
        parts.append(view_set)
    bar.close()
    return TensorSet.concat(parts) if len(parts) > 1 else parts[0]


def set_threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)
