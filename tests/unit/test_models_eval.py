"""The label oracle: the ceiling of the demo search figures given the catalog's label counts."""

from __future__ import annotations

import torch

from core.models.data import TensorSet
from core.models.evaluate import oracle_metrics


def _set(rows: list[tuple[str, str, int]]) -> TensorSet:
    """(category, sku, colour) rows -> a TensorSet with 'category|sku' labels."""
    n = len(rows)
    return TensorSet(torch.zeros(n, 3, 2, 2, dtype=torch.uint8), torch.zeros(n, 1),
                     torch.tensor([c for _, _, c in rows]), torch.arange(n),
                     torch.zeros(n, 1), [f"{cat}|{sku}" for cat, sku, _ in rows])


def test_oracle_ranks_item_then_category_and_colour():
    # 12 tees: 6 red (one of them the query's item), 6 blue; 12 red bags.
    gallery = _set([("tee", f"T{i}", 0) for i in range(6)]
                   + [("tee", f"U{i}", 1) for i in range(6)]
                   + [("bag", f"B{i}", 0) for i in range(12)])
    queries = _set([("tee", "T0", 0)])
    out = oracle_metrics(gallery, queries)
    assert out["r1_item"] == 1.0 and out["queries"] == 1
    assert out["p10_category"] == 1.0  # 12 tees fill the top 10
    assert out["p10_color"] == 0.6  # only 6 red tees exist: category outranks colour
