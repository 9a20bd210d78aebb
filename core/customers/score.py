"""The fused customer score: how much a customer would want an item, given an item they
bought (or any reference item), in four explainable parts, each in [0, 1]:

* visual: cosine similarity of the two items' embeddings (negative cosines count as 0);
* popularity: the item's normalised popularity adjusted to the customer's trendiness
  (:func:`core.customers.popularity.popularity_adjustment`: crowd-followers like popular
  items, trend-seekers penalise those above ``p_threshold`` with ``penalty_exponent``);
* category: the affinity of the two categories (:mod:`core.customers.affinity`);
* proximity: ``exp(-d / distance_scale_km)`` for the haversine distance d from the customer's
  home to the item's store.

``score = visual^wv · popularity^wp · category^wc · proximity^wg`` (a weighted geometric
product: the parts are multiplied; the weights, 1 by default, make a part count more or
drop it at 0). With several references (a purchase history) each item keeps its best score
and remembers which reference gave it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.customers.catalog import CatalogView
from core.customers.customers import Customer
from core.customers.params import PARTS, FusionConfig
from core.customers.popularity import popularity_adjustment


@dataclass
class Ranking:
    scores: np.ndarray  # per catalog row; -inf for rows that are not candidates
    ref: np.ndarray  # per row: index (into the references) of the one that gave the score
    parts: dict[str, np.ndarray]  # per part, per row: the part of that score


def customer_parts(catalog: CatalogView, vectors: np.ndarray, customer: Customer,
                   ref_rows: np.ndarray, pop_norm: np.ndarray, cfg: FusionConfig
                   ) -> dict[str, np.ndarray]:
    """The four parts for every item against every reference: refs × items arrays.

    ``vectors`` are unit-norm rows aligned with the catalog. Without references (nothing
    bought yet) the visual and category parts are 1: popularity and proximity rank alone.
    """
    n, refs = len(catalog), np.asarray(ref_rows, dtype=np.int64)
    if len(refs):
        visual = np.clip(vectors[refs] @ vectors.T, 0.0, 1.0)
        category = catalog.category_affinity(refs)
    else:
        visual = category = np.ones((1, n))
    popularity = popularity_adjustment(pop_norm, customer.trendiness, cfg.p_threshold,
                                       cfg.penalty_exponent)
    near = catalog.proximity_from(customer.lat, customer.lon, cfg.distance_scale_km)
    shape = visual.shape
    return {"visual": visual, "category": np.broadcast_to(category, shape),
            "popularity": np.broadcast_to(popularity, shape),
            "proximity": np.broadcast_to(near, shape)}


def fuse(parts: dict[str, np.ndarray], cfg: FusionConfig) -> np.ndarray:
    """``Π part ** weight`` over the parts with a non-zero weight (1 when all are dropped)."""
    out = np.ones(np.shape(parts["visual"]))
    for part, weight in cfg.weights.items():
        if weight:
            out = out * np.power(parts[part], weight)
    return out


def rank(parts: dict[str, np.ndarray], cfg: FusionConfig,
         candidates: np.ndarray | None = None) -> Ranking:
    """Every item's best score over the references (``candidates``: a mask of rows allowed)."""
    fused = fuse(parts, cfg)
    best = fused.argmax(axis=0)
    cols = np.arange(fused.shape[1])
    scores = fused[best, cols]
    if candidates is not None:
        scores = np.where(candidates, scores, -np.inf)
    return Ranking(scores, best, {p: np.asarray(parts[p])[best, cols] for p in PARTS})
