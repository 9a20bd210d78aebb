"""`train compat` and `eval compat` end to end: catalog features -> outfits -> models -> metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from core.config import Settings
from core.outfits.data import catalog_outfits
from core.outfits.evaluate import evaluate_outfits
from core.outfits.features import CatalogFeatures, catalog_features
from core.outfits.model import load_compat, save_compat
from core.outfits.train import CompatibilityTrainConfig, train_compatibility
from core.progress import Progress

WEIGHTS_FILE = "compat.pt"


def default_weights(settings: Settings) -> Path:
    return Path(settings.weights_dir) / WEIGHTS_FILE


def load_features(settings: Settings, repo, model_id: str, progress: Progress | None = None,
                  *, img_dim: int | None = None) -> CatalogFeatures:
    """The catalog's features for ``model_id``; ``img_dim``: the vector size a trained outfit
    model expects (a ValueError saying to retrain it when the catalog's differ)."""
    feats = catalog_features(repo, model_id, settings.data_dir, settings.cache_dir,
                             progress=progress)
    if img_dim is not None and feats.vectors.shape[1] != img_dim:
        raise ValueError(f"the catalog's {model_id} vectors have {feats.vectors.shape[1]} "
                         f"dimensions, the outfit model expects {img_dim}: retrain it with "
                         "`python -m core train compat`")
    return feats


def data_summary(settings: Settings, feats: CatalogFeatures, outfits, model_id: str) -> dict:
    """What the model saw: items, outfits per split and label, the image weights' sha256."""
    from core.models.manifest import image_weights_sha256

    by_split = Counter((o.split, "compatible" if o.label else "broken") for o in outfits)
    return {"model_id": model_id, "items": len(feats.skus),
            "item_sources": dict(Counter(it.source or "unknown" for it in feats.items)),
            "outfits": {f"{s}_{lab}": n for (s, lab), n in sorted(by_split.items())},
            "image_weights_sha256": image_weights_sha256(settings.weights_dir, model_id)}


def headline(report: dict) -> dict:
    """The figures worth keeping in a manifest."""
    keep = ("auc", "auc_all", "fitb", "outfits", "questions", "split")
    out = {**{k: report.get(k) for k in keep}, "by_fault": report.get("by_fault", {}),
           "baselines": report.get("baselines", {})}
    if "without_facts" in report:
        out["without_facts"] = report["without_facts"]
    return out


def train_compat(settings: Settings, repo, cfg: CompatibilityTrainConfig, *, model_id: str,
                 out: Path | None = None, progress: Progress | None = None,
                 on_epoch: Callable[[dict], None] | None = None) -> dict:
    """Train the Siamese model and the MLP baseline, evaluate on test, save both."""
    from core.feedback.pipeline import command_line

    feats = load_features(settings, repo, model_id, progress)
    outfits = catalog_outfits(repo, feats)
    model, result = train_compatibility(feats, outfits, "siamese", cfg, image_model=model_id,
                                        on_epoch=on_epoch)
    baseline, base = train_compatibility(feats, outfits, "mlp", cfg, image_model=model_id)
    report = evaluate_outfits(model, baseline, feats, outfits, seed=cfg.seed)
    data = data_summary(settings, feats, outfits, model_id)
    meta = {"data": data, "train": asdict(cfg), "command": command_line(),
            "metrics": headline(report)}
    out = Path(out) if out is not None else default_weights(settings)
    sha = save_compat(out, model, baseline=baseline, meta=meta)
    return {"weights": str(out), "sha256": sha, "metrics": report, "history": result.history,
            "baseline_history": base.history, "data": data}


def evaluate_compat(settings: Settings, repo, *, weights: Path | None = None, seed: int = 0,
                    split: str = "test", progress: Progress | None = None) -> dict:
    """Evaluate saved weights on a split of the catalog's outfits."""
    model, baseline, _meta = load_compat(weights or default_weights(settings))
    feats = load_features(settings, repo, model.cfg.image_model, progress,
                          img_dim=model.cfg.img_dim)
    outfits = catalog_outfits(repo, feats)
    report = evaluate_outfits(model, baseline, feats, outfits, split=split, seed=seed)
    report["weights"] = str(weights or default_weights(settings))
    return report


