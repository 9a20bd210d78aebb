"""Merging newly written vector rows into a packed state (sorted by sku)."""

import numpy as np


def test_merge_rows_adds_and_replaces_rows_in_sku_order():
    from core.index.vectorcache import merge_rows

    old = np.arange(6, dtype=np.float32).reshape(3, 2)
    skus, matrix = merge_rows(["b", "d", "f"], old, ["e", "a", "d"],
                              np.array([[10, 10], [11, 11], [12, 12]], np.float32))
    assert skus == ["a", "b", "d", "e", "f"]
    assert matrix.tolist() == [[11, 11], [0, 1], [12, 12], [10, 10], [4, 5]]
    empty = np.zeros((0, 0), np.float32)
    skus, matrix = merge_rows([], empty, ["y", "x"], np.array([[1, 2], [3, 4]], np.float32))
    assert skus == ["x", "y"] and matrix.tolist() == [[3, 4], [1, 2]]
