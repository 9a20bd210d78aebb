"""The map of a catalog above the sample size shows a category-stratified sample of it."""

from __future__ import annotations

import numpy as np

from core.explore import MapParams, build_map, place, sample_note, sample_skus
from tests.integration.test_explore_map import MODEL, seed_catalog


def test_large_catalog_maps_a_stratified_sample(repo):
    seed_catalog(repo, n=120)
    counts = repo.counts_by("category")
    params = MapParams("pca", clusters=4, sample=30)
    emap = build_map(repo, MODEL, params)
    assert emap.n == 30 and emap.sampled_from == 120 and emap.sample_size == 30
    assert sample_note(emap) == ("Showing a stratified sample of 30 of 120 items (every "
                                 "category keeps its share).")
    shown = emap.table["category"].value_counts().to_dict()
    assert set(shown) == set(counts)
    for cat, n in counts.items():
        assert abs(shown[cat] - 30 * n / 120) <= 1
    again = build_map(repo, MODEL, params)  # the stored map of the same sample
    assert again.cached and again.table["sku"].tolist() == emap.table["sku"].tolist()
    assert sample_skus(repo, MODEL, 30) == emap.table["sku"].tolist()  # sorted, same draw
    spot = place(again, np.asarray(repo.vectors(MODEL, skus=[emap.table["sku"][3]])[1][0]),
                 repo)
    assert spot.neighbours[0] == 3  # the sampled item's own vector lands on its point


def test_small_catalog_is_mapped_whole_without_a_note(repo):
    seed_catalog(repo, n=40)
    emap = build_map(repo, MODEL, MapParams("pca", clusters=4, sample=40))
    assert emap.n == 40 and emap.sampled_from == 0 and sample_note(emap) is None


def test_skus_of_a_category_are_read_in_pages(repo):
    seed_catalog(repo, n=40)
    every = repo.skus_matching({"category": "dress"})
    assert len(every) > 3
    assert repo.skus_in_category("dress", page_size=3) == every
    assert repo.skus_in_category("dress", page_size=len(every)) == every
    assert repo.skus_in_category("no such category") == []
