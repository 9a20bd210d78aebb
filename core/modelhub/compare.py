"""Compare two image encoders on a fine-tuned model's held-out catalog items: P@10 same
category and same colour, exact-item R@1 of augmented views, classifier top-1, and a few
example queries (each model's nearest held-out items to an augmented view)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.modelhub import store
from core.modelhub.data import augmented_pairs, catalog_rows, folder_rows, tensor_set

EXAMPLES = 3


def _encode(embedder, images_u8: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
    from core.models.augment import center_resize
    from core.models.preprocess import normalise_batch

    pre = embedder.preprocess
    vecs, probs = [], []
    for s in range(0, len(images_u8), 64):
        x = normalise_batch(center_resize(images_u8[s:s + 64], pre.size), pre)
        v, p = embedder.encode_tensor(x, with_probs=True)
        vecs.append(v)
        probs.append(p.numpy() if p is not None else None)
    return np.concatenate(vecs), (np.concatenate(probs) if probs[0] is not None else None)


def evaluate_model(embedder, pairs, categories: list[str], colours: np.ndarray,
                   groups: list[tuple[str, ...]] | None = None) -> dict:
    """Figures of one encoder on held-out pairs (rows alternate photo, augmented view);
    ``groups``: the categories each row's class covers (a top-1 within them is right)."""
    from core.models.labels import CATEGORY_NAMES
    from core.models.metrics import precision_at_k, recall_at_1

    emb, probs = _encode(embedder, pairs.images)
    g, q = emb[0::2], emb[1::2]
    n = len(g)
    ids = np.arange(n)
    cats = np.asarray(categories)
    out = {"p10_category": precision_at_k(q, g, cats, cats, exclude=np.eye(n, dtype=bool)),
           "p10_colour": precision_at_k(q, g, colours, colours, exclude=np.eye(n, dtype=bool)),
           "r1_item": recall_at_1(q, g, ids, ids), "top1_category": None}
    if probs is not None:
        pred = np.asarray(CATEGORY_NAMES)[probs[0::2].argmax(1)]
        allowed = groups or [(c,) for c in categories]
        out["top1_category"] = float(np.mean([p in g for p, g in zip(pred, allowed,
                                                                      strict=True)]))
    out = {k: (round(float(v), 4) if v is not None else None) for k, v in out.items()}
    return {**out, "_q": q, "_g": g}


def compare(settings, repo, model_a: str, model_b: str, *, held_out_of: str | None = None
            ) -> dict:
    """Figures of both models on the held-out items of ``held_out_of`` (default: whichever of
    the two is a user model) and example queries: {"models", "figures", "examples", "n"}."""
    from core.models.embed import Embedder

    store.attach(settings.data_dir)
    owner = held_out_of or next((m for m in (model_b, model_a) if store.is_user_id(m)), None)
    skus = set(store.holdout_skus(settings.data_dir, owner)) if owner else set()
    rows = [r for r in held_out_rows(settings, repo, owner) if r.sku in skus]
    if len(rows) < 2:
        raise store.ModelError("no held-out items to compare on: compare a fine-tuned model "
                               "(are its held-out items, or its training folder, still "
                               "there?)")
    figures, examples = {}, {}
    pick = np.linspace(0, len(rows) - 1, min(EXAMPLES, len(rows))).round().astype(int)
    for model_id in (model_a, model_b):
        emb = Embedder(model_id, settings)
        pairs = augmented_pairs(tensor_set(rows, emb.preprocess.size), seed=1)
        colours = np.array([r.color or "" for r in rows])
        fig = evaluate_model(emb, pairs, [r.class_name for r in rows], colours,
                             [r.group or (r.category or "",) for r in rows])
        q, g = fig.pop("_q"), fig.pop("_g")
        figures[model_id] = fig
        examples[model_id] = [_neighbours(q[i], g, rows) for i in pick]
    return {"models": [model_a, model_b], "figures": figures, "n": len(rows),
            "queries": [rows[i].sku for i in pick], "examples": examples,
            "paths": {r.sku: str(r.path) for r in rows}}


def held_out_rows(settings, repo, owner: str | None) -> list:
    """The rows a model's held-out skus name: photos of its training folder when it was
    trained on class folders, else catalog items."""
    source = ((store.user_manifest(owner) or {}).get("data") or {}).get("source") \
        if owner else None
    if source and source != "catalog":
        return folder_rows(Path(source)) if Path(source).is_dir() else []
    return catalog_rows(repo, settings.data_dir)


def _neighbours(query: np.ndarray, gallery: np.ndarray, rows, k: int = 5) -> list[tuple]:
    scores = gallery @ query
    order = np.argsort(-scores)[:k]
    return [(rows[i].sku, float(scores[i])) for i in order]
