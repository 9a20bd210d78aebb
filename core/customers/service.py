"""Recommendations for the customers (simulated or imported) and the evaluation, for the
page and the CLI.

The catalog features (items that have a vector, their unit-norm vectors from the cached
vector index, categories, stores, popularity) are kept until the catalog, its vectors or the
simulation change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import Settings
from core.customers.catalog import CatalogView
from core.customers.customers import Customer, Purchase
from core.customers.evaluate import Progress, data_note, evaluate
from core.customers.params import FusionConfig, SimulationError
from core.customers.pipeline import (
    get_customer,
    last_run,
    load_customers,
    load_purchases,
    stores_of,
)
from core.customers.popularity import normalised
from core.customers.score import customer_parts, rank
from core.search.ranking import top_indices
from core.storage.records import Item


@dataclass
class Features:
    catalog: CatalogView  # the items that have a vector, in index order
    vectors: np.ndarray  # their unit-norm vectors, row for row
    model_id: str


@dataclass
class CustomerRecommendation:
    item: Item
    score: float
    parts: dict[str, float]  # visual, popularity, category, proximity, each in [0, 1]
    because: str | None  # the purchase (or reference item) the score comes from
    distance_km: float | None  # from the customer's home to the item's store

    def to_json(self, data_dir: Path | None = None) -> dict:
        path = Path(self.item.image_path)
        if data_dir is not None and not path.is_absolute():
            path = Path(data_dir) / path
        return {"sku": self.item.sku, "score": round(self.score, 6),
                "parts": {k: round(v, 4) for k, v in self.parts.items()},
                "because": self.because, "category": self.item.category,
                "attrs": self.item.attrs, "store_id": self.item.store_id,
                "distance_km": self.distance_km, "image_path": str(path)}


class Recommender:
    """Fused-score recommendations and their evaluation over one image model's vectors."""

    def __init__(self, settings: Settings, *, model_id: str | None = None, indexes=None):
        self.settings = settings
        self.model_id = model_id or settings.backbone
        self._indexes = indexes
        self._lock = threading.Lock()
        self._feats: tuple[tuple, Features] | None = None

    @property
    def indexes(self):
        """The vector index cache (made on first use: it imports torch)."""
        if self._indexes is None:
            from core.index import IndexManager

            self._indexes = IndexManager(self.settings)
        return self._indexes

    def features(self, repo) -> Features:
        """The catalog features (raises NoVectors when the catalog has no vectors)."""
        run = last_run(repo) or {}
        stamp = (repo.catalog_version(), repo.vector_count(self.model_id),
                 repo.vectors_version(self.model_id), repr(run.get("params")),
                 run.get("catalog_version"), run.get("digest"))  # digest: an import's
        with self._lock:
            if self._feats is None or self._feats[0] != stamp:
                self._feats = (stamp, self._load(repo))
            return self._feats[1]

    def _load(self, repo) -> Features:
        from core.index import normalise
        from core.index.vectorcache import VectorCache, cached_vectors

        index = self.indexes.get(repo, self.model_id)
        matrix = getattr(index, "matrix", None)  # the exact index keeps unit-norm rows
        if matrix is not None:
            skus, vecs = index.skus, matrix.cpu().numpy()
        else:  # the disk cache, else the packed snapshot in MongoDB, else one per vector
            skus, vecs, _ = cached_vectors(repo, self.model_id,
                                           VectorCache(self.settings.cache_dir))
            vecs = normalise(vecs)
        pos = {s: i for i, s in enumerate(skus)}
        items = repo.get_items(list(skus))
        rows = np.array([pos[it.sku] for it in items], dtype=np.int64)
        return Features(CatalogView.build(items, stores_of(repo)), vecs[rows], self.model_id)

    @staticmethod
    def customers(repo) -> list[Customer]:
        return load_customers(repo)

    @staticmethod
    def customer(repo, customer_id: str) -> Customer:
        return get_customer(repo, customer_id)

    @staticmethod
    def history(repo, customer_id: str) -> list[Purchase]:
        return load_purchases(repo, customer_id)

    def recommend(self, repo, customer_id: str, *, k: int = 10,
                  fusion: FusionConfig | None = None, reference: str | None = None
                  ) -> list[CustomerRecommendation]:
        """The k best items for a customer from their purchases (or one ``reference`` item),
        never one they bought or cannot wear, each with its score parts."""
        cfg = fusion or FusionConfig()
        cfg.check()
        feats = self.features(repo)
        cat = feats.catalog
        customer = self.customer(repo, customer_id)
        bought = [p.sku for p in self.history(repo, customer_id)]
        if reference is not None and reference not in cat.row:
            raise KeyError(f"no item {reference!r} with a {self.model_id} vector in the catalog")
        refs = cat.rows_of([reference] if reference else bought)
        allowed = cat.wearable_by(customer.gender)
        allowed[cat.rows_of(bought + ([reference] if reference else []))] = False
        parts = customer_parts(cat, feats.vectors, customer, refs, normalised(cat.popularity),
                               cfg)
        ranking = rank(parts, cfg, allowed)
        dist = cat.distances_km(customer.lat, customer.lon)
        return [CustomerRecommendation(
            cat.items[r], float(ranking.scores[r]),
            {p: float(v[r]) for p, v in ranking.parts.items()},
            cat.skus[refs[ranking.ref[r]]] if len(refs) else None,
            None if np.isnan(dist[r]) else round(float(dist[r]), 1))
            for r in top_indices(ranking.scores, k)]

    def evaluate(self, repo, *, k: int = 10, fusion: FusionConfig | None = None, seed: int = 0,
                 progress: Progress | None = None) -> dict:
        """Leave-last-out hit rate and NDCG@k of the fused score and its baselines."""
        cfg = fusion or FusionConfig()
        cfg.check()
        if k < 1:
            raise SimulationError(f"k must be at least 1 (got {k})")
        customers = self.customers(repo)
        if not customers:
            raise SimulationError("no simulated customers yet: run `python -m core customers "
                                  "simulate` or import a purchase history (`python -m core "
                                  "customers import FILE`)")
        feats = self.features(repo)
        report = evaluate(feats.catalog, feats.vectors, customers, load_purchases(repo), cfg,
                          k=k, seed=seed, progress=progress)
        if not report["customers"]:
            raise SimulationError("no customer has two purchases with vectors to evaluate on: "
                                  "simulate (or import) more customers or purchases")
        return {**report, **data_note(last_run(repo)), "model_id": self.model_id}


def recommender(settings: Settings) -> Recommender:
    """Factory for the UI's resource cache and the CLI."""
    return Recommender(settings)
