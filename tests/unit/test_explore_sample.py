"""The map's stratified sample: shares per category kept, small categories kept, same draw."""

from __future__ import annotations

import numpy as np
import pytest

from core.explore.sample import quotas, stratified_rows


def _groups() -> list[str]:
    rng = np.random.default_rng(1)
    labels = ["tee"] * 5000 + ["dress"] * 3000 + ["bag"] * 1960 + ["hat"] * 37 + ["scarf"] * 3
    return [labels[i] for i in rng.permutation(len(labels))]


def test_each_category_keeps_its_share_and_small_ones_stay():
    groups = _groups()
    rows = stratified_rows(groups, 1000, seed=0)
    assert len(rows) == 1000 and len(set(rows.tolist())) == 1000
    assert np.all(np.diff(rows) > 0)  # sorted row numbers
    picked = [groups[r] for r in rows]
    counts = {g: picked.count(g) for g in set(groups)}
    for g in ("tee", "dress", "bag"):
        share = groups.count(g) / len(groups)
        assert abs(counts[g] - 1000 * share) <= 1
    assert counts["hat"] in (3, 4) and counts["scarf"] == 1  # 0.37 and 0.03 rows: kept


def test_same_seed_same_sample_other_seed_other_sample():
    groups = _groups()
    a = stratified_rows(groups, 500, seed=3)
    np.testing.assert_array_equal(a, stratified_rows(groups, 500, seed=3))
    b = stratified_rows(groups, 500, seed=4)
    assert not np.array_equal(a, b)
    picked_a = sorted(groups[r] for r in a)
    assert picked_a == sorted(groups[r] for r in b)  # the same quotas, other items


def test_small_catalog_is_kept_whole_and_quotas_add_up():
    assert stratified_rows(["a", "b", "a"], 10).tolist() == [0, 1, 2]
    q = quotas({"a": 90, "b": 9, "c": 1}, 10)
    assert q == {"a": 8, "b": 1, "c": 1} and sum(q.values()) == 10
    assert sum(quotas({"a": 5, "b": 5, "c": 5}, 2).values()) == 2  # fewer rows than groups
    with pytest.raises(ValueError, match="at least 1 row"):
        stratified_rows(["a", "b"], 0)
