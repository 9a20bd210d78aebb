"""Metric code of `eval feedback` against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.feedback.metrics import (
    attribute_hits,
    hit_rate,
    recall_at,
    recall_summary,
    target_ranks,
    top_rows,
)

# Five unit vectors on a circle: angles 0, 30, 60, 90, 180 degrees.
ANGLES = [0, 30, 60, 90, 180]
V = np.array([[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in ANGLES],
             dtype=np.float32)


def test_target_rank_counts_better_gallery_items():
    q = V[[0]]  # query at 0 degrees: order is rows 0, 1, 2, 3, 4
    assert target_ranks(q, V, [2], [0, 1, 2, 3, 4]).tolist() == [2]
    assert target_ranks(q, V, [4], [0, 1, 2, 3, 4]).tolist() == [4]


def test_target_rank_excludes_the_reference():
    q = V[[0, 0]]
    ranks = target_ranks(q, V, [2, 2], [0, 1, 2, 3, 4], exclude=[0, 1])
    assert ranks.tolist() == [1, 1]  # row 0 resp. row 1 no longer counts


def test_target_rank_only_over_the_gallery():
    assert target_ranks(V[[0]], V, [3], [3, 4]).tolist() == [0]
    with pytest.raises(ValueError, match="gallery"):
        target_ranks(V[[0]], V, [1], [3, 4])


def test_target_rank_ties_favour_the_target():
    g = np.array([[1, 0], [1, 0]], dtype=np.float32)
    assert target_ranks(g[[0]], g, [1], [0, 1]).tolist() == [0]


def test_recall_and_summary():
    ranks = np.array([0, 9, 10, 49, 50])
    assert recall_at(ranks, 10) == pytest.approx(2 / 5)
    assert recall_at(ranks, 50) == pytest.approx(4 / 5)
    s = recall_summary(ranks)
    assert s == {"r10": 0.4, "r50": 0.8, "mean": 0.6, "n": 5}
    assert recall_at(np.array([]), 10) == 0.0


def test_top_rows_best_first_without_the_reference():
    rows = top_rows(V[[0]], V, [0, 1, 2, 3, 4], 2, exclude=[0])
    assert rows.tolist() == [[1, 2]]


def test_attribute_hits_and_rate():
    colours = ["red", "red", "blue", "navy", "black"]
    rows = np.array([[0, 1], [2, 3], [3, 4]])
    wanted = [frozenset({"blue"}), frozenset({"blue", "navy"}), None]
    hits = attribute_hits(rows, colours, wanted)
    assert hits[0] == 0.0 and hits[1] == 1.0 and np.isnan(hits[2])
    assert hit_rate(hits) == 0.5
    assert hit_rate(np.array([np.nan])) is None


def test_adjusted_scores_reorder_top_rows_and_ranks():
    from core.feedback.metrics import attribute_fraction

    q = V[[0]]  # plain order: rows 0, 1, 2, 3, 4
    adjust = np.array([[4.0, 4.0, 0.0, 0.0, 4.0]], dtype=np.float32)  # rows 2, 3 obey
    assert top_rows(q, V, [0, 1, 2, 3, 4], 3, adjust=adjust).tolist() == [[2, 3, 0]]
    assert top_rows(q, V, [0, 1, 2, 3, 4], 2, exclude=[2], adjust=adjust).tolist() == [[3, 0]]
    assert target_ranks(q, V, [2], [0, 1, 2, 3, 4], adjust=adjust).tolist() == [0]
    assert target_ranks(q, V, [1], [0, 1, 2, 3, 4], adjust=adjust).tolist() == [3]
    values = ["red", "red", "blue", None, "blue"]
    frac = attribute_fraction(np.array([[2, 3, 4], [0, 1, 2]]), values,
                              [frozenset({"blue"}), None])
    assert frac[0] == pytest.approx(2 / 3) and math.isnan(frac[1])
