"""Fine-tune the active studio encoder on the catalog: the encoder's training
(core.models.train.fit_encoder, in the shared loop of core.training) on catalog photos,
reporting the caching of a split trunk's features and each step, and stopping on request, on
the time budget (the whole run's, caching included) or on divergence."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from core.modelhub import store
from core.modelhub.data import (
    augmented_pairs,
    catalog_rows,
    folder_rows,
    split_rows,
    tensor_set,
)
from core.modelhub.params import DataError, FineTuneParams
from core.training import StopTraining

log = logging.getLogger(__name__)
STUDIO_FAMILIES = ("studio_lite", "studio_encoder")


class Diverged(RuntimeError):
    """The loss or the weights became NaN/inf: the run stops and no model is written."""


class Reporter:
    """Progress sink of a run (the job runner writes it to status.json); no-op here."""

    def phase(self, state: str, message: str = "") -> None: ...
    def loaded(self, done: int, total: int) -> None: ...
    def cached(self, done: int, total: int) -> None: ...
    def step(self, epoch: int, step: int, steps: int) -> None: ...
    def epoch(self, row: dict) -> None: ...
    def stop_requested(self) -> bool:
        return False


def check_device(device: str) -> str:
    """The torch device for ``device`` (auto → cuda when visible); a clear error for a GPU
    device without a GPU."""
    from core.config import resolve_device

    resolved = resolve_device(device)
    if resolved.startswith("cuda") and not torch.cuda.is_available():
        raise DataError(f"device {resolved!r} was asked for but torch sees no GPU on this "
                        "machine: choose cpu (or set DEVICE=auto)")
    return resolved


def family_of(model_id: str) -> str:
    """The studio family (studio_lite | studio_encoder) a model belongs to."""
    if model_id in STUDIO_FAMILIES:
        return model_id
    manifest = store.user_manifest(model_id)
    if manifest is None:
        raise DataError(f"fine-tuning starts from a studio encoder ({', '.join(STUDIO_FAMILIES)}"
                        f" or one fine-tuned from them); {model_id!r} is not one")
    return manifest["family"]


def load_base(settings, model_id: str):
    """(model, weights path) of the encoder to start from."""
    from core.models.registry import MissingWeights, get_spec, resolve_weights
    from core.models.studio import load_checkpoint

    family_of(model_id)
    try:
        path = resolve_weights(get_spec(model_id), settings.weights_dir)
    except MissingWeights as exc:
        raise DataError(str(exc)) from None
    return load_checkpoint(path)[0], Path(path)


def train_config(params: FineTuneParams, *, size: int, tail: bool, heads: bool, device: str):
    from core.models.train import EncoderTrainConfig

    return EncoderTrainConfig(epochs=params.epochs, batch_size=params.batch_size, lr=params.lr,
                       schedule="plateau", patience=0, max_minutes=params.max_minutes,
                       crop_size=size, demo_k=2, aug_strength=0.8, item_triplet_on="fused",
                       attr_weight=0.5 if heads else 0.0, tail_only=tail, cache_views=2,
                       device=device, seed=params.seed)


@dataclass
class Prepared:
    model: Any
    base_path: Path
    cfg: Any
    train: dict
    val: dict
    data: dict = field(default_factory=dict)
    holdout: list[str] = field(default_factory=list)


def stage_progress(reporter: Reporter, report: Callable[[int, int], None], doing: str,
                   params: FineTuneParams, deadline: float | None
                   ) -> Callable[[int, int], None]:
    """A stage's ``progress(done, total)`` (reading the photos, caching features): reports it
    with ``report``, and raises StopTraining when a stop is requested or the time budget
    (ending at ``deadline``, monotonic) runs out."""

    def progress(done: int, total: int) -> None:
        report(done, total)
        where = f"while {doing} ({done:,} of {total:,} images)"
        if reporter.stop_requested():
            raise StopTraining("requested", f"on request {where}")
        if deadline is not None and time.monotonic() >= deadline:
            raise StopTraining("time", f"by the time budget ({params.max_minutes:g} min) "
                                       f"{where}")

    return progress


def prepare(settings, repo, params: FineTuneParams, reporter: Reporter,
            deadline: float | None = None) -> Prepared:
    """Check the inputs, load the base encoder and the catalog data (cached frozen-part
    features of several views when the base has a split pretrained trunk; a stop request or
    the time budget ending at ``deadline`` raises StopTraining during the caching)."""
    from core.models.recipes import cached_sets

    params.check()
    device = check_device(params.device)
    rows = folder_rows(Path(params.folder)) if params.folder else \
        catalog_rows(repo, settings.data_dir)
    train_rows, hold_rows = split_rows(rows)
    model, base_path = load_base(settings, params.base or settings.backbone)
    reporter.phase("loading", "reading the catalog photos")
    size = int(params.image_size or model.image_size)
    model.image_size = size
    tail = bool(getattr(model.trunk, "cut", 0))
    cfg = train_config(params, size=size, tail=tail, heads=model.attr_heads is not None,
                       device=device)
    reading = stage_progress(reporter, reporter.loaded, "reading the photos", params, deadline)
    total = len(train_rows) + len(hold_rows)
    train = {"demo": tensor_set(train_rows, size, copies=1 if tail else 2,
                                progress=lambda done, _: reading(done, total))}
    val = {"demo": augmented_pairs(tensor_set(
        hold_rows, size, progress=lambda done, _: reading(len(train_rows) + done, total)),
        seed=params.seed)}
    if tail:
        reporter.phase("caching", "computing the frozen trunk's features of the photos")
    train, val = cached_sets(model, train, val, cfg, warm=True, progress=stage_progress(
        reporter, reporter.cached, "caching features", params, deadline))
    labelled = sum(1 for r in train_rows if r.labelled)
    data = {"source": params.folder or "catalog",
            "items": len(train_rows) + len(hold_rows), "train_items": len(train_rows),
            "train_labelled": labelled, "train_unlabelled": len(train_rows) - labelled,
            "held_out": len(hold_rows), "database": settings.db_name,
            "collection": settings.collection_name, "catalog_version": repo.catalog_version(),
            "supervision": ("class folders mapped onto the catalog's categories (partial "
                            "labels where a class covers several)" if params.folder else
                            "category, colour and attribute labels where items have them") +
                           "; item identity across augmented views (contrastive) for all"}
    return Prepared(model, base_path, cfg, train, val, data, [r.sku for r in hold_rows])


def fine_tune(settings, repo, params: FineTuneParams, work_dir: Path,
              reporter: Reporter | None = None) -> dict:
    """Run a fine-tune; returns a summary with ``model_id`` (None when nothing was kept).
    Stopped runs keep their best epoch (none when stopped while caching); diverged runs
    raise Diverged and keep nothing. The time budget counts the whole run: what is left of
    it after loading and caching is the training's."""
    from core.models.recipes import validation_metrics
    from core.models.studio import preprocess_of, save_checkpoint
    from core.models.train import Batcher, fit_encoder

    reporter = reporter or Reporter()
    store.attach(settings.data_dir)
    if params.threads:
        torch.set_num_threads(params.threads)
    deadline = time.monotonic() + params.max_minutes * 60 if params.max_minutes else None
    try:
        prep = prepare(settings, repo, params, reporter, deadline)
    except StopTraining as stop:
        return {"model_id": None, "stopped": f"stopped {stop.message}", "epochs": [],
                "message": f"{stop.message}: no model was written"}
    if deadline is not None:  # the training's share of the budget (at least its first epoch)
        prep.cfg.max_minutes = max(deadline - time.monotonic(), 1.0) / 60
    work_dir = Path(work_dir)
    best = work_dir / "best.pt"
    batcher = Batcher(None, prep.train["demo"], prep.cfg)

    def save(model, row: dict) -> None:
        save_checkpoint(model, best, metrics=row, half=True, extra={"kind": "catalog finetune"})

    def validate(m) -> dict:
        return validation_metrics(m, prep.val, prep.cfg.device)

    reporter.phase("running", "training")
    result = fit_encoder(prep.model, batcher, validate, prep.cfg, preprocess_of(prep.model),
                         save, save_last=lambda _model, row: reporter.epoch(row),
                         on_step=lambda epoch, step: reporter.step(epoch, step, batcher.steps),
                         should_stop=reporter.stop_requested)
    if result.reason == "diverged":
        raise Diverged(result.stopped)
    stopped = result.stopped or "epochs done"
    if result.reason == "requested":
        stopped = (f"stopped on request after {len(result.history)} epoch(s): "
                   "best epoch kept")
    elif result.reason == "time":  # the training had what was left of the budget
        stopped = f"time budget of {params.max_minutes:g} min reached"
    if not best.is_file():
        return {"model_id": None, "stopped": stopped, "epochs": result.history,
                "message": "no epoch finished: no model was written"}
    return _publish(settings, params, prep, best, result.history, stopped)


def _publish(settings, params: FineTuneParams, prep: Prepared, best: Path, rows: list[dict],
             stopped: str) -> dict:
    from core.models.studio import sha256_of

    base = params.base or settings.backbone
    family = family_of(base)
    model_id = store.next_model_id(settings.data_dir, family)
    top = max(rows, key=lambda r: r.get("score", -1)) if rows else {}
    metrics = {"best_epoch": top.get("epoch"), "val_r1_item": top.get("val_demo_r1_item"),
               "val_p10_category": top.get("val_demo_p10_cat"),
               "val_p10_colour": top.get("val_demo_p10_color"), "val_score": top.get("score")}
    manifest = {"kind": "image_encoder", "family": family, "base": base,
                "base_sha256": sha256_of(prep.base_path), "created": store.now(),
                "settings": {**asdict(params), "base": base, "device": prep.cfg.device,
                             "image_size": prep.model.image_size,
                             "tail_only": prep.cfg.tail_only},
                "data": prep.data, "metrics": metrics, "history": rows, "stopped": stopped}
    store.publish_model(settings.data_dir, model_id, best, manifest, prep.holdout)
    log.info("fine-tuned %s from %s (%s)", model_id, base, stopped)
    return {"model_id": model_id, "stopped": stopped, "epochs": rows, "metrics": metrics}
