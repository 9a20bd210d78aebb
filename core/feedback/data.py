"""What training and evaluation read: item vectors, item facts and captioned pairs.

Two sources produce the same :class:`FeedbackData`: the catalog in MongoDB (pairs generated
from attributes, plus the demo's stored pairs) and FashionIQ caption files with an image folder
(see :mod:`core.feedback.fashioniq`).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.feedback.captions import CaptionGenerator
from core.feedback.pairs import (
    PAIR_ATTRS,
    PairRecord,
    attribute_pairs,
    family_of_item,
    pairs_from_docs,
    split_of_item,
)
from core.index.store import embed_command
from core.index.vectorcache import VectorCache, cached_vectors
from core.storage.records import Item

log = logging.getLogger(__name__)
KNOWN_ATTRS = frozenset(PAIR_ATTRS)


class NoFeedbackData(LookupError):
    """Not enough catalog data (items, vectors or pairs) to train or evaluate."""


@dataclass
class FeedbackData:
    skus: list[str]
    vectors: np.ndarray  # n x d, L2-normalised, rows aligned with skus
    info: list[dict[str, Any]]  # per row: category, family, split, attrs
    pairs: list[PairRecord] = field(default_factory=list)
    source: str = "catalog"
    demo_pairs: list[PairRecord] = field(default_factory=list)  # stored, with their own captions
    sources: dict[str, int] = field(default_factory=dict)  # item source -> count (provenance)

    def __post_init__(self) -> None:
        self.row = {s: i for i, s in enumerate(self.skus)}

    def rows(self, split: str | None = None) -> np.ndarray:
        """Row numbers of the items of a split (all rows when None)."""
        return np.array([i for i, f in enumerate(self.info)
                         if split is None or f["split"] == split], dtype=np.int64)

    def split_pairs(self, split: str) -> list[PairRecord]:
        return [p for p in self.pairs if p.split == split
                and p.reference in self.row and p.target in self.row]

    def attr(self, row: int, name: str) -> str | None:
        value = self.info[row]["attrs"].get(name)
        return None if value is None else str(value)

    def ranked_attrs(self, row: int) -> dict:
        """What the rule ranking reads of a row: its attributes and its category (as
        ``core.feedback.service.ranked_attrs`` reads a catalog item)."""
        return {**self.info[row]["attrs"], "category": self.info[row]["category"]}


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def item_info(item: Item) -> dict[str, Any]:
    return {"category": item.category, "family": family_of_item(item),
            "split": split_of_item(item), "attrs": dict(item.attrs or {})}


def catalog_data(repo, model_id: str, *, per_reference: int = 6, seed: int = 0,
                 stored_pairs: bool = True, cache_dir: Path | None = None) -> FeedbackData:
    """Items with vectors of ``model_id`` and their attribute pairs (+ the stored demo pairs).

    The vectors come from the disk cache under ``cache_dir`` (when given), else the packed
    snapshot in MongoDB, else one document per vector."""
    skus, matrix, _ = cached_vectors(repo, model_id,
                                     VectorCache(cache_dir) if cache_dir is not None else None)
    if len(skus) == 0:
        raise NoFeedbackData(f"no embeddings for model {model_id!r}: build the catalog and run "
                             f"`{embed_command(model_id)}` first")
    by_sku = {it.sku: it for it in repo.iter_items()}
    keep = [i for i, s in enumerate(skus) if s in by_sku]
    items = [by_sku[skus[i]] for i in keep]
    data = FeedbackData([it.sku for it in items], _normalise(matrix[keep]),
                        [item_info(it) for it in items],
                        sources=dict(Counter(it.source or "unknown" for it in items)))
    data.pairs = attribute_pairs(items, per_reference=per_reference, seed=seed)
    if stored_pairs:
        # The stored pairs' changes join training with our own captions; their captions (another
        # generator's phrasing) are kept aside for a separate held-out check.
        data.demo_pairs = pairs_from_docs(repo.find_docs("pairs"), {it.sku: it for it in items})
        seen = {p.pair_id for p in data.pairs}
        data.pairs.extend(
            PairRecord(p.reference, p.target, p.changes, p.family, p.category, p.split)
            for p in data.demo_pairs
            if f"{p.reference}>{p.target}" not in seen and set(p.changes) & KNOWN_ATTRS)
    if not data.pairs:
        raise NoFeedbackData("the catalog has no reference/target pairs (items differing in one "
                             "or two attributes): build or ingest a larger catalog")
    log.info("feedback data: %d items, %d pairs", len(data.skus), len(data.pairs))
    return data


def add_captions(pairs: list[PairRecord], split: str, per_pair: int, seed: int) -> None:
    """Fill each pair's captions from the generator's ``split`` templates ("train" | "eval").

    Pairs that came with captions (demo, FashionIQ) keep theirs.
    """
    gen = CaptionGenerator(split)
    rng = random.Random(seed)
    for p in pairs:
        if not p.captions and p.changes:
            p.captions = list(dict.fromkeys(gen.captions(p.changes, p.category, per_pair, rng)))
