"""Evaluations: search on the demo catalog (re-rendered queries), search and classification on
folders of real photos (``<root>/{train,validation|test}/<class>/*``)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from core.models.augment import center_resize
from core.models.data import TensorSet, demo_set, load_many, photo_set, read_items_jsonl
from core.models.embed import Embedder
from core.models.labels import CATEGORY_NAMES, DETAIL_NAMES, attr_targets, group_matrix
from core.models.metrics import (
    class_topk,
    features_u8,
    precision_at_k,
    recall_at_1,
    top_k_rows,
)
from core.models.preprocess import normalise_batch
from core.models.registry import MissingWeights, available_backbones
from core.models.tune import TARGETS

log = logging.getLogger(__name__)
QUERY_SPLITS = ("validation", "val", "test")


@torch.inference_mode()
def embed_u8(embedder: Embedder, images_u8: torch.Tensor, *, batch_size: int = 128,
             with_probs: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Embeddings (and category probabilities when asked and possible) of cached images."""
    embs, probs = [], []
    for s in range(0, len(images_u8), batch_size):
        x = normalise_batch(center_resize(images_u8[s:s + batch_size], embedder.preprocess.size),
                            embedder.preprocess)
        emb, prob = embedder.encode_tensor(x, with_probs=with_probs)
        embs.append(emb)
        if prob is not None:
            probs.append(prob)
    return np.concatenate(embs), (torch.cat(probs).numpy() if probs else None)


def query_root(root: Path) -> Path:
    """The evaluation split of a photo data set: validation/, val/ or test/."""
    for name in QUERY_SPLITS:
        if (Path(root) / name).is_dir():
            return Path(root) / name
    raise FileNotFoundError(f"{root}: no validation/, val/ or test/ folder of class folders")


def _photos(root: Path, size: int, mapped: bool) -> TensorSet:
    if mapped:
        return photo_set(root, size)
    from core.models.data import class_folder_samples

    samples = class_folder_samples(root)
    n = len(samples)
    return TensorSet(load_many([p for p, _ in samples], size), torch.zeros(n, 1),
                     torch.full((n,), -1), torch.zeros(n, dtype=torch.long), torch.zeros(n, 1),
                     [c for _, c in samples])


def eval_search_folders(embedder: Embedder, root: Path, k: int = 10) -> dict:
    """P@k same class: queries from validation/ (or test/), gallery = train/."""
    size = embedder.preprocess.size
    gallery = _photos(Path(root) / "train", size, mapped=False)
    queries = _photos(query_root(root), size, mapped=False)
    g_emb, _ = embed_u8(embedder, gallery.images)
    q_emb, _ = embed_u8(embedder, queries.images)
    p = precision_at_k(q_emb, g_emb, queries.labels, gallery.labels, k)
    return {"model": embedder.model_id, f"p{k}_same_class": round(p, 4), "n": len(queries)}


def eval_classify_folders(embedder: Embedder, root: Path, *, vote: bool = True) -> dict:
    """Top-1 / top-3 class accuracy on validation/ (or test/, or ``root`` itself). With a
    ``train/`` split beside it (and ``vote``), also the neighbour vote of the k nearest train
    photos alone (``knn_*``) and fused with the classifier (``fused_*``,
    ``core.models.neighbour_vote``)."""
    try:
        target = query_root(root)
    except FileNotFoundError:
        target = Path(root)
    photos = _photos(target, embedder.preprocess.size, mapped=True)
    q_emb, probs = embed_u8(embedder, photos.images, with_probs=True)
    if probs is None:
        raise ValueError(f"backbone {embedder.backbone!r} has no category classifier")
    out = {"model": embedder.model_id, **class_topk(probs, photos.labels, k=3)}
    train = Path(root) / "train"
    if vote and target != Path(root) and train.is_dir():
        gallery = _photos(train, embedder.preprocess.size, mapped=False)
        g_emb, _ = embed_u8(embedder, gallery.images)
        out.update(vote_figures(probs, photos.labels, q_emb, g_emb, gallery.labels))
    return out


def vote_figures(probs: np.ndarray, labels: list[str], q_emb: np.ndarray, g_emb: np.ndarray,
                 g_labels: list[str]) -> dict:
    """Top-1 / top-3 of the neighbour vote alone and fused with the classifier, whose
    probability of a folder class is the sum of its catalog categories' (as ``class_topk``)."""
    from core.models import neighbour_vote as nv

    classes = sorted(set(labels) | set(g_labels))
    scores = probs @ group_matrix(classes).numpy().T
    classes, fused, votes = nv.fused_prediction(scores, classes, q_emb, g_emb, g_labels)
    truth = np.array([classes.index(lab) for lab in labels])
    return {f"{name}_top{k}": round(nv.topk_accuracy(s, truth, k), 4)
            for name, s in (("knn", votes), ("fused", fused)) for k in (1, 3)} | {
        "knn_k": nv.K, "fusion_vote_weight": nv.VOTE_WEIGHT, "gallery": len(g_labels)}


def demo_eval_sets(demo_dir: Path, size: int, max_queries: int = 0) -> tuple[TensorSet, TensorSet]:
    """(gallery = every catalog picture, queries = variant-1 re-renders of test items)."""
    records = read_items_jsonl(demo_dir)
    splits = sorted({r.get("split") for r in records if r.get("split")})
    gallery = demo_set(demo_dir, size, split=splits, variants=(0,))
    queries = demo_set(demo_dir, size, split="test", variants=(1,))
    # demo_set numbers items within its own selection: map both to SKUs for identity.
    g_skus = [r["sku"] for r in records if r.get("split") in splits]
    q_skus = [r["sku"] for r in records if r.get("split") == "test"]
    gallery.labels = [f"{c}|{s}" for c, s in zip(gallery.labels, g_skus, strict=True)]
    queries.labels = [f"{c}|{s}" for c, s in zip(queries.labels, q_skus, strict=True)]
    if max_queries and len(queries) > max_queries:
        queries = queries.subset(np.linspace(0, len(queries) - 1, max_queries).astype(int))
    return gallery, queries


def category_sku(ts: TensorSet) -> tuple[np.ndarray, np.ndarray]:
    """(categories, SKUs) of a demo evaluation set (its labels read 'category|sku')."""
    cats, skus = zip(*(lab.split("|", 1) for lab in ts.labels), strict=True)
    return np.array(cats), np.array(skus)


def search_metrics(embedder: Embedder, gallery: TensorSet, queries: TensorSet, *,
                   g_emb: np.ndarray | None = None) -> dict:
    """P@10 same category, P@10 same colour, R@1 same item of any backbone's query vectors
    against the gallery's (``g_emb``: those when already computed)."""
    if g_emb is None:
        g_emb, _ = embed_u8(embedder, gallery.images)
    q_emb, _ = embed_u8(embedder, queries.images)
    return ranking_metrics(q_emb, g_emb, gallery, queries)


def ranking_metrics(q_emb: np.ndarray, g_emb: np.ndarray, gallery: TensorSet,
                    queries: TensorSet, exclude: np.ndarray | None = None) -> dict:
    """The three demo figures of query vectors against gallery vectors; ``exclude`` (queries x
    gallery, True = left out) restricts each query's candidates."""
    g_cat, g_sku = category_sku(gallery)
    q_cat, q_sku = category_sku(queries)
    q_col, g_col = queries.color.numpy(), gallery.color.numpy()
    return {
        "p10_category": round(precision_at_k(q_emb, g_emb, q_cat, g_cat, exclude=exclude), 4),
        "p10_color": round(precision_at_k(q_emb, g_emb, q_col, g_col, exclude=exclude), 4),
        "r1_item": round(recall_at_1(q_emb, g_emb, q_sku, g_sku, exclude), 4),
        "queries": len(queries),
    }


def category_aware_metrics(probs: np.ndarray, q_emb: np.ndarray, g_emb: np.ndarray,
                           gallery: TensorSet, queries: TensorSet) -> dict:
    """Category-restricted search (the Search page's "category-aware" switch): the
    classifier's top category of each query limits its candidates to that category. Reports
    the classifier's top-1 on the queries beside the three figures."""
    g_cat, _ = category_sku(gallery)
    q_cat, _ = category_sku(queries)
    pred = np.asarray(CATEGORY_NAMES)[probs.argmax(1)]
    restricted = ranking_metrics(q_emb, g_emb, gallery, queries,
                                 exclude=g_cat[None, :] != pred[:, None])
    return {"classifier_top1": round(float((pred == q_cat).mean()), 4), **restricted}


def oracle_metrics(gallery: TensorSet, queries: TensorSet,
                   groups: dict[str, int] | None = None) -> dict:
    """The ceiling of the demo figures: a ranking that knows every label (same item, then
    same category and colour, then same category, then same colour). P@10 for category and
    colour together is bounded by how many catalog items share both with the query.

    ``groups`` (SKU -> look-alike group) makes it an oracle that knows only which group an
    item is in: the true item then ties with its look-alikes, in random order."""
    g_cat, g_sku = category_sku(gallery)
    q_cat, q_sku = category_sku(queries)
    g_id, q_id = (g_sku, q_sku) if groups is None else (
        np.array([groups[s] for s in g_sku]), np.array([groups[s] for s in q_sku]))
    g_col, q_col = gallery.color.numpy(), queries.color.numpy()
    score = (4.0 * (q_id[:, None] == g_id[None]) + 2.0 * (q_cat[:, None] == g_cat[None])
             + 1.0 * (q_col[:, None] == g_col[None]))
    rng = np.random.default_rng(0)
    top = top_k_rows(score + rng.random(score.shape) * 0.01, 10)  # random order within ties
    return {
        "p10_category": round(float((g_cat[top] == q_cat[:, None]).mean()), 4),
        "p10_color": round(float((g_col[top] == q_col[:, None]).mean()), 4),
        "r1_item": group_r1(q_id, g_id),
        "queries": len(queries),
    }


def look_alike_groups(records: list[dict], details: bool = True) -> dict[str, int]:
    """SKU -> look-alike group of demo catalog records (``core.demo.render.look_alike_key``)."""
    from core.demo.render import look_alike_key

    ids: dict[tuple, int] = {}
    return {r["sku"]: ids.setdefault(look_alike_key(r, details), len(ids)) for r in records}


def joint_ceiling(gallery: TensorSet, queries: TensorSet, k: int = 10) -> float:
    """The most P@k category + P@k colour can sum to, for any ranking: a top-k slot counts
    twice only for an item sharing both labels with the query, and a query has only so many."""
    return label_ceiling(category_sku(queries)[0], queries.color.numpy(),
                         category_sku(gallery)[0], gallery.color.numpy(), k)


def label_ceiling(q_cat: np.ndarray, q_col: np.ndarray, g_cat: np.ndarray, g_col: np.ndarray,
                  k: int = 10) -> float:
    """``joint_ceiling`` from label arrays (category and colour of queries and gallery)."""
    pairs = Counter(zip(g_cat.tolist(), g_col.tolist(), strict=True))
    both = np.array([pairs[p] for p in zip(q_cat.tolist(), q_col.tolist(), strict=True)])
    return round(float(1 + np.minimum(both, k).mean() / k), 4)


def group_r1(q_id: np.ndarray, g_id: np.ndarray) -> float:
    """R@1 of a ranking that knows only each item's group and orders a group's members at
    random: the expectation, 1 / (the true item and its look-alikes in the gallery)."""
    size = Counter(g_id.tolist())
    return round(float(np.mean([1.0 / size[q] for q in q_id.tolist()])), 4)


def catalog_bounds(records: list[dict], k: int = 10) -> dict:
    """What any ranking can reach on a demo catalog's search evaluation, from its labels alone
    (no pictures; queries = the test split, gallery = every item, as ``demo_eval_sets``): the
    P@k category + P@k colour ceiling and the R@1 of the detail and attribute oracles."""
    gallery = [r for r in records if r.get("split")]
    queries = [r for r in gallery if r["split"] == "test"]
    if not queries:
        raise ValueError("the catalog has no test split to query with")

    def labels(rs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([r["category"] for r in rs]),
                np.array([str(r.get("attrs", {}).get("color")) for r in rs]))

    (q_cat, q_col), (g_cat, g_col) = labels(queries), labels(gallery)
    out = {"items": len(gallery), "queries": len(queries),
           "ceiling_p10_category_plus_color": label_ceiling(q_cat, q_col, g_cat, g_col, k)}
    for name, details in (("detail_oracle_r1", True), ("attribute_oracle_r1", False)):
        groups = look_alike_groups(gallery, details)
        out[name] = group_r1(np.array([groups[r["sku"]] for r in queries]),
                             np.array([groups[r["sku"]] for r in gallery]))
    out["p10_goals_reachable"] = out["ceiling_p10_category_plus_color"] >= round(
        TARGETS["p10_category"] + TARGETS["p10_color"], 4)
    out["detail_oracle_meets_r1_target"] = out["detail_oracle_r1"] >= TARGETS["r1_item"]
    return out


def head_accuracy(model, queries: TensorSet, device: str = "cpu",
                  z: torch.Tensor | None = None) -> dict[str, dict]:
    """How well a studio encoder's training heads read each query's drawn attributes and shape
    details: {name: {"accuracy", "n"}} over the queries whose value is known (``z``: the
    queries' projections when already computed)."""
    from core.models.studio import preprocess_of

    if getattr(model, "attr_heads", None) is None:
        return {}
    if z is None:
        z = features_u8(model, queries.images, preprocess_of(model), device=device)
    targets = {**attr_targets(queries.attrs),
               **dict(zip(DETAIL_NAMES, queries.detail_rows().T, strict=True))}
    out = {}
    with torch.inference_mode():
        for name, logits in model.attr_logits(z.to(device)).items():
            known = targets[name] >= 0
            if known.any():
                hit = logits.cpu()[known].argmax(1) == targets[name][known]
                out[name] = {"accuracy": round(float(hit.float().mean()), 4),
                             "n": int(known.sum())}
    return out


@torch.inference_mode()
def studio_query_figures(main: Embedder, gallery: TensorSet, queries: TensorSet,
                         g_emb: np.ndarray) -> dict:
    """A studio encoder's figures from one pass over the queries' views: the default mode,
    the exact-item mode (when tuned), category-aware search and the training heads."""
    model = main.model
    z = features_u8(model, queries.images, main.preprocess, device=main.device)

    def unit(v: torch.Tensor) -> np.ndarray:
        return torch.nn.functional.normalize(v.float(), dim=1).numpy()

    q_emb = unit(model.embed(z))
    out = ranking_metrics(q_emb, g_emb, gallery, queries)
    if main.can_match_item:
        out["item_match"] = {"weights": list(model.item_weights),
                             **ranking_metrics(unit(model.query_as(z, model.item_weights)),
                                               g_emb, gallery, queries)}
    if main.can_classify:
        out["category_aware"] = category_aware_metrics(model.category_probs(z).numpy(), q_emb,
                                                       g_emb, gallery, queries)
    if heads := head_accuracy(model, queries, main.device, z=z):
        out["heads"] = heads  # the attribute and detail heads (training only) read back
    return out


def eval_search_demo(settings, demo_dir: Path, *, backbone: str = "studio_lite",
                     max_queries: int = 0, baselines: bool = True,
                     embedder: Embedder | None = None) -> dict:
    """The shipped encoder's demo search figures beside a random-init baseline and others;
    for a studio encoder also the same queries in the "this exact item" mode (``item_match``)
    and in category-aware search (``category_aware``)."""
    main = embedder or Embedder(backbone, settings)
    gallery, queries = demo_eval_sets(demo_dir, main.preprocess.size, max_queries)
    g_emb, _ = embed_u8(main, gallery.images)  # the catalog, embedded once for every mode
    figures = studio_query_figures(main, gallery, queries, g_emb) \
        if hasattr(main.model, "view_features") else search_metrics(main, gallery, queries,
                                                                     g_emb=g_emb)
    out = {"model": main.model_id, **{k: v for k, v in figures.items() if not isinstance(v, dict)},
           "baselines": {}, **{k: v for k, v in figures.items() if isinstance(v, dict)}}
    if not baselines:
        return out
    out["baselines"]["label_oracle"] = oracle_metrics(gallery, queries)
    records = read_items_jsonl(demo_dir)
    for name, details in (("detail_oracle", True), ("attribute_oracle", False)):
        out["baselines"][name] = oracle_metrics(gallery, queries,
                                                look_alike_groups(records, details))
    out["ceiling"] = {"p10_category_plus_color": joint_ceiling(gallery, queries)}
    torch.manual_seed(0)
    rand = Embedder("studio_encoder", settings, weights=None)
    out["baselines"]["random_init"] = search_metrics(rand, gallery, queries)
    for name in available_backbones(settings.weights_dir):
        if name == backbone:
            continue
        try:
            emb = Embedder(name, settings)
        except (MissingWeights, OSError, ValueError) as exc:
            log.warning("skipping baseline %s: %s", name, exc)
            continue
        if emb.preprocess.size != main.preprocess.size:
            g, q = demo_eval_sets(demo_dir, emb.preprocess.size, max_queries)
        else:
            g, q = gallery, queries
        out["baselines"][name] = search_metrics(emb, g, q)
    return out
