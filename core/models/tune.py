"""Inference choices for a trained studio encoder, made on validation data only.

Three choices, stored in the checkpoint and recorded beside it: the inference views (which zooms
and mirror images are averaged), the chunk weights (how much category, colour and item identity
count in the fused embedding) and the query-side weights of the "this exact item" search mode
(the weighting with the best item recall; queries are re-weighted against the same stored
vectors, see ``StudioEncoder.query_as``). The data are the same validation sets as training's:
the 10 % hold-out of the real photos (queries; gallery = the other training photos) and the
demo catalog's val split (variant 1 queries against variant 0, with the test split's catalog
shots as extra gallery items).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from core.models.data import (
    PHOTO_IDENT_OFFSET,
    TensorSet,
    demo_set,
    photo_set,
    split_holdout,
    variant_pairs,
)
from core.models.metrics import class_topk, features_u8, precision_at_k, recall_at_1
from core.models.studio import (
    STUDIO_PREPROCESS,
    load_checkpoint,
    preprocess_of,
    save_checkpoint,
    training_record,
)
from core.models.train_config import VIEW_CANDIDATES

log = logging.getLogger(__name__)
TARGETS = {"p10_category": 0.95, "p10_color": 0.90, "r1_item": 0.8, "photo_p10": 0.8}
DISTRACTOR_IDS = 2_000_000  # identity offset of the distractor gallery items
KEEP_COLOR = 0.90  # colour is the target the encoder meets: weights must keep it met


def tuning_data(real: Path | None, demo: Path | None, holdout: float = 0.1,
                size: int = STUDIO_PREPROCESS.size) -> dict:
    """Training's validation data: photo hold-out (queries) + other photos (gallery) from
    ``real``'s train/ (or ``real`` itself), and the demo catalog's val split (variants 0, 1),
    as ``size``-pixel images (the encoder's input side)."""
    from core.models.recipes import photo_root

    data: dict[str, TensorSet] = {}
    if real is not None:
        photos = photo_set(photo_root(real), size, ident_offset=PHOTO_IDENT_OFFSET)
        data["gallery"], data["queries"] = split_holdout(photos, holdout, seed=0)
    if demo is not None:
        data["demo"] = demo_set(demo, size, split="val", variants=(0, 1))
        # The unseen test split's catalog shots join the gallery as distractors: retrieval then
        # searches a catalog near the evaluation's size (val + test = 30 % of the catalog; the
        # evaluation searches 2,000 items), and R@1 is not overstated by a small gallery.
        extra = demo_set(demo, size, split="test", variants=(0,), ident_offset=DISTRACTOR_IDS)
        if len(extra):
            data["distractors"] = extra
    if not data:
        raise ValueError("no tuning data: give real photos and/or a demo catalog")
    return data


def chunk_features(model, images: torch.Tensor) -> torch.Tensor:
    """Per-chunk normalised projections (averaged over the model's views) of uint8 images."""
    return torch.cat(model.unit_chunks(features_u8(model, images, preprocess_of(model))), 1)


def weight_metrics(feats: dict, data: dict, model, weights) -> dict[str, float]:
    """Validation figures of one weighting (demo retrieval and photo P@10)."""
    out: dict[str, float] = {}

    def fuse(z: torch.Tensor) -> np.ndarray:
        return model.embed(z, weights).numpy()

    if "demo" in feats:
        d, e = data["demo"], fuse(feats["demo"])
        q, g = variant_pairs(d)
        cats, cols, ids = np.array(d.labels), d.color.numpy(), d.ident.numpy()
        g_emb, g_cat, g_col, g_id = e[g], cats[g], cols[g], ids[g]
        if "distractors" in feats:
            x = data["distractors"]
            g_emb = np.concatenate([g_emb, fuse(feats["distractors"])])
            g_cat = np.concatenate([g_cat, np.array(x.labels)])
            g_col = np.concatenate([g_col, x.color.numpy()])
            g_id = np.concatenate([g_id, x.ident.numpy()])
        out["p10_category"] = precision_at_k(e[q], g_emb, cats[q], g_cat)
        out["p10_color"] = precision_at_k(e[q], g_emb, cols[q], g_col)
        out["r1_item"] = recall_at_1(e[q], g_emb, ids[q], g_id)
    if "queries" in feats:
        out["photo_p10"] = precision_at_k(fuse(feats["queries"]), fuse(feats["gallery"]),
                                          data["queries"].labels, data["gallery"].labels)
    return against_targets(out)


def against_targets(figures: dict[str, float]) -> dict:
    """The figures (rounded) with how many targets they meet and their total shortfall."""
    out = {k: round(float(v), 4) for k, v in figures.items()}
    out["targets_met"] = sum(v >= TARGETS[k] for k, v in figures.items())
    out["shortfall"] = round(sum(max(0.0, TARGETS[k] - v) for k, v in figures.items()), 4)
    return out


def weight_grid(step: float = 0.05) -> list[tuple[float, float, float]]:
    """(category, colour, identity) weights summing to 1: category up to 0.85, colour up to 0.7,
    identity at least 0.05."""
    grid = []
    for wc in np.arange(0.0, 0.86, step).tolist():
        for wl in np.arange(0.0, 0.71, step).tolist():
            if 1 - wc - wl >= 0.049:
                grid.append((round(wc, 2), round(wl, 2), round(1 - wc - wl, 2)))
    return grid


def weight_rows(model, data: dict[str, TensorSet], feats: dict) -> list[dict]:
    """Validation figures of every weighting in ``weight_grid`` (``feats``: ``chunk_features``
    of every set in ``data``); both selections below read these rows."""
    return [{"w": list(w), **weight_metrics(feats, data, model, w)} for w in weight_grid()]


def select_chunk_weights(rows: list[dict]) -> dict:
    """Among weightings giving category at least 0.2 and colour at least 0.05 (the stored
    embedding keeps both meaningful) and keeping validation colour P@10 at or above KEEP_COLOR
    (when there are renders to measure it), the one meeting the most targets, then with the
    smallest shortfall."""
    rows = sorted((r for r in rows if r["w"][0] >= 0.2 and r["w"][1] >= 0.05),
                  key=lambda r: (r.get("p10_color", 1.0) < KEEP_COLOR, -r["targets_met"],
                                 r["shortfall"]))
    return {"chosen": rows[0]["w"], "top": rows[:3], "rule": (
        f"among weights keeping validation colour P@10 >= {KEEP_COLOR}: the most targets met, "
        "then the smallest total shortfall against the targets")}


def select_item_weights(rows: list[dict]) -> dict | None:
    """Query weights of the "this exact item" mode: the weighting (any share of category and
    colour) with the best validation item recall, ties going to the larger category + colour
    P@10. None without renders (real photos carry no item identity)."""
    if not rows or "r1_item" not in rows[0]:
        return None
    rows = sorted(rows, key=lambda r: (-r["r1_item"], -(r["p10_category"] + r["p10_color"])))
    return {"chosen": rows[0]["w"], "top": rows[:3], "rule": (
        "the best validation R@1 item, then the largest category + colour P@10")}


def select_views(model, data: dict[str, TensorSet]) -> dict:
    """The inference views with the best hold-out photo top-1 + P@10 (ties: fewer views)."""
    if "queries" not in data:
        return {"chosen": "plain", "scores": {}}
    scores = {}
    queries, gallery = data["queries"], data["gallery"]
    pre = preprocess_of(model)
    for name, views in VIEW_CANDIDATES.items():
        model.views = views
        zq = features_u8(model, queries.images, pre)
        zg = features_u8(model, gallery.images, pre)
        with torch.inference_mode():
            probs = model.category_probs(zq).numpy()
        p10 = precision_at_k(model.embed(zq).numpy(), model.embed(zg).numpy(),
                             queries.labels, gallery.labels)
        scores[name] = {"top1": class_topk(probs, queries.labels)["top1"],
                        "p10_same_class": round(float(p10), 4)}
    best = max(scores, key=lambda n: (sum(scores[n].values()), -len(VIEW_CANDIDATES[n])))
    model.views = VIEW_CANDIDATES[best]
    return {"chosen": best, "views": [list(v) for v in VIEW_CANDIDATES[best]], "scores": scores}


def tune_encoder(init: Path, out: Path, *, real: Path | None, demo: Path | None,
                 views: str | None = None) -> dict:
    """Choose views (unless ``views`` names them), then chunk weights, on the validation data
    of ``real`` and ``demo`` (read at the checkpoint's input side); save the tuned checkpoint
    to ``out``."""
    model, payload = load_checkpoint(init)
    data = tuning_data(real, demo, size=model.image_size)
    if views is None:
        chosen_views = select_views(model, data)
    else:
        model.views = VIEW_CANDIDATES[views]
        chosen_views = {"chosen": views, "views": [list(v) for v in model.views], "given": True}
    log.info("views: %s", chosen_views["chosen"])
    feats = {k: chunk_features(model, ts.images) for k, ts in data.items()}
    rows = weight_rows(model, data, feats)
    weights = select_chunk_weights(rows)
    log.info("chunk weights: %s", weights["chosen"])
    model.chunk_scale = torch.tensor(weights["chosen"], dtype=torch.float32).sqrt()
    item = select_item_weights(rows)
    model.item_weights = tuple(item["chosen"]) if item else None
    log.info("exact-item query weights: %s", model.item_weights)
    summary = {"views_selection": chosen_views, "chunk_weights_selection": weights,
               "item_weights_selection": item}
    save_checkpoint(model, out, metrics=payload.get("metrics"), half=True,
                    extra={**training_record(payload), **summary})
    return {"file": str(out), **summary}
