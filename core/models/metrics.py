"""Metric code shared by training validation, `eval search` and `eval classify`."""

from __future__ import annotations

import numpy as np
import torch

from core.models.augment import center_resize
from core.models.labels import CATEGORY_NAMES, group_matrix
from core.models.preprocess import PreprocessCfg, normalise_batch


@torch.inference_mode()
def features_u8(model, images_u8: torch.Tensor, cfg: PreprocessCfg, *, batch_size: int = 128,
                device: str = "cpu") -> torch.Tensor:
    """Projections of cached uint8 images, averaged over the model's inference views; a float
    tensor holds a split trunk's cached frozen-part features (plain view only)."""
    model.eval()
    out = []
    for start in range(0, len(images_u8), batch_size):
        if images_u8.dtype != torch.uint8:
            out.append(model.tail_features(images_u8[start:start + batch_size].to(device)
                                           .float()).cpu())
            continue
        x = normalise_batch(center_resize(images_u8[start:start + batch_size], cfg.size),
                            cfg).to(device)
        out.append(model.view_features(x).cpu())
    return torch.cat(out)


@torch.inference_mode()
def encode_u8(model, images_u8: torch.Tensor, cfg: PreprocessCfg, *, batch_size: int = 128,
              device: str = "cpu") -> tuple[np.ndarray, np.ndarray | None]:
    """(normalised embeddings, category probabilities or None) for cached uint8 images."""
    z = features_u8(model, images_u8, cfg, batch_size=batch_size, device=device)
    probs = model.category_probs(z)
    return model.embed(z).numpy(), (probs.numpy() if probs is not None else None)


def class_topk(probs: np.ndarray, labels: list[str], k: int = 3) -> dict[str, float]:
    """Top-1 and top-k accuracy of folder classes, summing category probabilities per class."""
    classes = sorted(set(labels))
    mat = group_matrix(classes).numpy()  # classes x categories
    scores = probs @ mat.T
    truth = np.array([classes.index(lab) for lab in labels])
    order = np.argsort(-scores, axis=1)
    top1 = float((order[:, 0] == truth).mean())
    topk = float((order[:, :k] == truth[:, None]).any(1).mean())
    return {"top1": round(top1, 4), f"top{k}": round(topk, 4), "n": len(labels)}


def precision_at_k(q_emb: np.ndarray, g_emb: np.ndarray, q_labels, g_labels, k: int = 10,
                   exclude: np.ndarray | None = None) -> float:
    """Mean fraction of the k nearest gallery items (cosine) sharing the query's label;
    ``exclude`` (q x g bool) leaves items out: a slot only they could fill (fewer than k
    candidates) counts as a miss."""
    idx = nearest(q_emb, g_emb, k, exclude)
    hits = np.asarray(g_labels)[idx] == np.asarray(q_labels)[:, None]
    return float((hits & _kept(idx, exclude)).mean())


def recall_at_1(q_emb: np.ndarray, g_emb: np.ndarray, q_ids, g_ids,
                exclude: np.ndarray | None = None) -> float:
    """Fraction of queries whose nearest (not excluded) gallery item is the same item."""
    idx = nearest(q_emb, g_emb, 1, exclude)
    hits = np.asarray(g_ids)[idx[:, 0]] == np.asarray(q_ids)
    return float((hits & _kept(idx, exclude)[:, 0]).mean())


def _kept(idx: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
    """Which picked slots hold an item that was not excluded."""
    return np.ones(idx.shape, bool) if exclude is None else \
        ~np.take_along_axis(exclude, idx, axis=1)


def nearest(q_emb: np.ndarray, g_emb: np.ndarray, k: int,
            exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k most similar gallery rows for each query (exclude: q x g bool mask)."""
    sims = q_emb @ g_emb.T
    if exclude is not None:
        sims = np.where(exclude, -np.inf, sims)
    return top_k_rows(sims, k)


def top_k_rows(sims: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest entries of each row, best first (argpartition, no full sort)."""
    k = min(k, sims.shape[1])
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(sims, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


def top_categories(probs: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
    """Per row, the k most probable catalog categories with their probabilities."""
    order = np.argsort(-probs, axis=1)[:, :k]
    return [[(CATEGORY_NAMES[j], round(float(p[j]), 4)) for j in row]
            for row, p in zip(order, probs, strict=True)]
