"""`train feedback` and `eval feedback` end to end: data -> captions -> towers -> model -> metrics.

Splits: pairs of train items train the model (training templates), val pairs select the epoch,
test pairs (held-out templates) are reported. A FashionIQ folder replaces the catalog as the
source; everything downstream is the same.
"""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.config import Settings
from core.feedback.data import FeedbackData, add_captions, catalog_data
from core.feedback.evaluate import evaluate_pairs
from core.feedback.model import load_combiner, save_combiner
from core.feedback.real import METHODS as REAL_METHODS
from core.feedback.real import real_caption_eval
from core.feedback.rules import RULE_WEIGHT
from core.feedback.service import default_weights
from core.feedback.text import DEFAULT_TOWER, build_text_tower
from core.feedback.train import (
    CaptionBank,
    CombinerTrainConfig,
    caption_cache_path,
    train_combiner,
)
from core.progress import Progress

log = logging.getLogger(__name__)


@dataclass
class DataOptions:
    model_id: str = "studio_encoder"
    per_reference: int = 6  # generated targets per reference item
    captions_per_pair: int = 4  # training captions per pair
    eval_captions: int = 2  # held-out-template captions per test pair
    seed: int = 0
    fashioniq: Path | None = None  # FashionIQ caption/split files instead of the catalog
    images: Path | None = None  # FashionIQ image folder


def load_data(settings: Settings, repo, opts: DataOptions,
              progress: Progress | None = None) -> FeedbackData:
    """Items, vectors and captioned pairs from the catalog or a FashionIQ folder."""
    if opts.fashioniq is not None:
        data = _fashioniq(settings, opts, progress)
    else:
        data = catalog_data(repo, opts.model_id, per_reference=opts.per_reference,
                            seed=opts.seed, cache_dir=settings.cache_dir)
    add_captions(data.split_pairs("train"), "train", opts.captions_per_pair, opts.seed)
    add_captions(data.split_pairs("val"), "train", 1, opts.seed + 1)
    add_captions(data.split_pairs("test"), "eval", opts.eval_captions, opts.seed + 2)
    return data


def _fashioniq(settings: Settings, opts: DataOptions, progress: Progress | None) -> FeedbackData:
    from core.feedback.fashioniq import FashionIQFormatError, fashioniq_data, load_fashioniq
    from core.images import load_image
    from core.models.embed import embedder_for

    if opts.images is None:
        raise FashionIQFormatError("FashionIQ training needs --images FOLDER")
    fiq = load_fashioniq(opts.fashioniq)
    embedder = embedder_for(opts.model_id, settings)

    def embed(paths: list[Path]) -> np.ndarray:
        out = []
        for start in range(0, len(paths), 64):
            chunk = paths[start:start + 64]
            out.append(embedder.embed_images([load_image(p) for p in chunk]))
            if progress:
                progress(min(start + 64, len(paths)), len(paths))
        return np.concatenate(out)

    return fashioniq_data(fiq, opts.images, embed)


def eval_split(data: FeedbackData) -> str:
    """test when it has pairs, else val (FashionIQ's public test targets are withheld)."""
    return "test" if data.split_pairs("test") else "val"


def _bank(settings: Settings, data: FeedbackData, tower, progress: Progress | None):
    texts = [c for p in data.pairs for c in p.captions]
    texts += [c for p in data.demo_pairs for c in p.captions]
    return CaptionBank(tower, texts, cache=caption_cache_path(settings.cache_dir, tower.name),
                       progress=progress)


def measure(_settings: Settings, data: FeedbackData, encode, model, baseline, *,
            real_captions: Path | None = None, seed: int = 0, real_part: str = "heldout",
            rule_weight: float | None = None) -> dict:
    """The eval report: held-out pairs, demo-caption pairs and (optionally) real captions."""
    split = eval_split(data)
    report = evaluate_pairs(data, encode, model, baseline, split=split,
                            by_family=data.source == "fashioniq")
    report["split"] = split
    demo = [p for p in data.demo_pairs if p.split == split and p.captions
            and p.reference in data.row and p.target in data.row]
    if demo:
        d = evaluate_pairs(data, encode, model, baseline, split=split, pairs=demo)
        report["demo_captions"] = {k: d[k] for k in ("r10", "r50", "mean", "n", "attr_hit_at_10")}
        report["demo_captions"]["baselines"] = {m: {k: v[k] for k in ("r10", "r50", "mean")}
                                                for m, v in d["baselines"].items()}
    if real_captions is not None:
        if Path(real_captions).is_dir():
            weight = RULE_WEIGHT if rule_weight is None else rule_weight
            report["real_captions"] = real_caption_eval(data, encode, model, real_captions,
                                                        seed=seed, part=real_part, weight=weight)
        else:
            log.warning("real captions folder %s not found: skipped", real_captions)
    return report


def train_feedback(settings: Settings, repo, opts: DataOptions, cfg: CombinerTrainConfig, *,
                   text_tower: str = DEFAULT_TOWER, out: Path | None = None,
                   real_captions: Path | None = None, progress: Progress | None = None,
                   on_epoch: Callable[[dict], None] | None = None) -> dict:
    """Train, evaluate and save; returns {"weights", "sha256", "metrics", "history", ...}."""
    data = load_data(settings, repo, opts, progress)
    tower = build_text_tower(text_tower, weights_dir=settings.weights_dir, device=settings.device)
    bank = _bank(settings, data, tower, progress)
    model, baseline, info = train_combiner(data, bank, cfg, text_tower=tower.name,
                                           image_model=opts.model_id, on_epoch=on_epoch)
    metrics = measure(settings, data, bank.encoder(tower), model, baseline,
                      real_captions=real_captions, seed=opts.seed)
    out = Path(out) if out is not None else default_weights(settings)
    meta = {"data": data_summary(data, opts, settings), "train": asdict(cfg),
            "command": command_line(), "metrics": headline(metrics)}
    sha = save_combiner(out, model, text_baseline=baseline, meta=meta, half=True)
    return {"weights": str(out), "sha256": sha, "metrics": metrics,
            "history": info["history"], "train_examples": info["train_examples"],
            "data": meta["data"]}


def evaluate_feedback(settings: Settings, repo, opts: DataOptions, *, weights: Path | None = None,
                      real_captions: Path | None = None, progress: Progress | None = None,
                      real_part: str = "heldout", rule_weight: float | None = None) -> dict:
    """Evaluate saved weights on the held-out pairs (same data recipe as training)."""
    model, baseline, meta = load_combiner(weights or default_weights(settings))
    opts.model_id = model.cfg.image_model
    trained = meta.get("data", {})
    for key in ("per_reference", "seed"):
        if key in trained and opts.fashioniq is None:
            setattr(opts, key, trained[key])
    data = load_data(settings, repo, opts, progress)
    tower = build_text_tower(model.cfg.text_tower, weights_dir=settings.weights_dir,
                             device=settings.device)
    bank = _bank(settings, data, tower, progress)
    report = measure(settings, data, bank.encoder(tower), model, baseline,
                     real_captions=real_captions, seed=opts.seed, real_part=real_part,
                     rule_weight=rule_weight)
    report["weights"] = str(weights or default_weights(settings))
    report["model_id"] = model.cfg.image_model
    report["text_tower"] = model.cfg.text_tower
    return report


def data_summary(data: FeedbackData, opts: DataOptions, settings: Settings | None = None) -> dict:
    """What the model saw: source, item provenance, pair counts, the image weights' sha256."""
    from core.models.manifest import image_weights_sha256

    splits = {s: len(data.split_pairs(s)) for s in ("train", "val", "test")}
    out = {"source": data.source, "model_id": opts.model_id, "items": len(data.skus),
           "item_sources": data.sources, "pairs": splits, "per_reference": opts.per_reference,
           "captions_per_pair": opts.captions_per_pair, "seed": opts.seed,
           "fashioniq": str(opts.fashioniq) if opts.fashioniq else None}
    if settings is not None:
        out["image_weights_sha256"] = image_weights_sha256(settings.weights_dir, opts.model_id)
    return out


def headline(metrics: dict) -> dict:
    """The figures worth keeping in a manifest."""
    out = {k: metrics.get(k) for k in ("r10", "r50", "mean", "attr_hit_at_10", "n", "split")}
    out["baselines"] = {m: {k: v.get(k) for k in ("r10", "r50", "mean")}
                        for m, v in metrics.get("baselines", {}).items()}
    real = metrics.get("real_captions")
    if real and "color" in real:
        out["real_captions"] = {a: {k: real[a].get(k) for k in ("n", *REAL_METHODS)}
                                for a in ("color", "pattern", "sleeve")}
    return out


def command_line() -> str:
    """The command as typed, without --notes (recorded on its own in the manifest)."""
    args, out, skip = sys.argv[1:], [], False
    for a in args:
        if skip:
            skip = False
        elif a == "--notes":
            skip = True
        elif not a.startswith("--notes="):
            out.append(a)
    return "python -m core " + shlex.join(out) if out else "python -m core train feedback"
