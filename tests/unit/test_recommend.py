"""Attribute, seasonal, colour-coordination and ensemble recommenders on a small real catalog."""

from __future__ import annotations

import datetime as dt

import pytest

from core.search.recommend import (
    coordinate_colours,
    ensemble,
    ensemble_for_item,
    explain_pair,
    matching_colours,
    recommend_by_attributes,
    season_of,
    seasonal_recommendations,
)
from core.storage import Item

ROWS = [  # sku, category, color, pattern, season, popularity
    ("A1", "tee", "navy", "solid", "summer", 5),
    ("A2", "tee", "navy", "striped", "summer", 9),
    ("A3", "tee", "red", "solid", "summer", 1),
    ("A4", "shirt", "navy", "solid", "winter", 3),
    ("B1", "jeans", "orange", "solid", "summer", 2),
    ("B2", "skirt", "blue", "solid", "summer", 4),
    ("B3", "trousers", "grey", "solid", "winter", 7),
    ("B4", "shorts", "orange", "denim", "summer", 6),
    ("C1", "sneakers", "white", "solid", "summer", 8),
    ("C2", "dress", "orange", "floral", "summer", 9),
    ("C3", "coat", "yellow", "solid", "winter", 2),
    ("C4", "sandals", "yellow", "solid", "summer", 3),
]


@pytest.fixture
def catalog(repo):
    items = [Item(sku=s, image_path=f"images/{s}.jpg", hash=f"h{s}", category=cat,
                  attrs={"color": col, "pattern": pat, "season": sea}, popularity=float(pop))
             for s, cat, col, pat, sea, pop in ROWS]
    repo.upsert_items(items)
    return {it.sku: it for it in items}


def test_by_attributes_full_matches_first(repo, catalog):
    recs = recommend_by_attributes(repo, category="tee", color="navy", pattern="solid", k=5)
    assert recs[0].item.sku == "A1"  # the only full match
    assert recs[0].reason == "matches category tee, color navy, pattern solid"
    assert recs[1].item.sku == "A2" and "differs on pattern (striped)" in recs[1].reason
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


def test_by_attributes_respects_filters_and_exclusions(repo, catalog):
    recs = recommend_by_attributes(repo, color="navy", k=10, exclude=["A2"],
                                   filters={"season": "summer"})
    assert [r.item.sku for r in recs] == ["A1"]
    assert recommend_by_attributes(repo, k=5) == []
    with pytest.raises(ValueError, match="unknown attribute"):
        recommend_by_attributes(repo, colour="navy")


def test_seasonal_prefers_season_colours_and_spreads_categories(repo, catalog):
    recs = seasonal_recommendations(repo, "summer", k=6)
    assert all(r.item.attrs["season"] == "summer" for r in recs)
    first_cats = [r.item.category for r in recs[:4]]
    assert len(set(first_cats)) == 4  # round-robin: no category repeats before others show
    white = next(r for r in recs if r.item.sku == "C1")
    assert "white is a summer colour" in white.reason
    with pytest.raises(ValueError, match="unknown season"):
        seasonal_recommendations(repo, "monsoon")


def test_season_of_dates():
    assert season_of(dt.date(2024, 1, 5)) == "winter"
    assert season_of(dt.date(2024, 7, 5)) == "summer"
    assert season_of(dt.date(2024, 7, 5), southern=True) == "winter"
    assert season_of(dt.date(2024, 10, 1)) == "autumn"


def test_matching_colours_and_explanations():
    groups = matching_colours("blue")
    assert "orange" in groups["complementary"] and "light blue" in groups["analogous"]
    assert "grey" in groups["neutral"] and "blue" not in sum(groups.values(), [])
    assert "complementary" in explain_pair("blue", "orange") and "°" in explain_pair(
        "blue", "orange")
    assert "grey is a neutral" in explain_pair("blue", "grey")
    assert matching_colours("no such colour") == {"complementary": [], "analogous": [],
                                                  "neutral": []}


def test_coordinate_colours_pairs_other_garments(repo, catalog):
    groups = coordinate_colours(repo, catalog["B2"])  # blue skirt
    comp = [r.item.sku for r in groups["complementary"]]
    assert "C2" not in comp  # an orange dress is not worn with a skirt
    assert "B1" not in comp and "B4" not in comp  # other bottoms are left out
    neutral = {r.item.sku for r in groups["neutral"]}
    assert "C1" in neutral and "A1" in neutral  # white sneakers, navy tee
    assert all(r.item.category != "skirt" for rs in groups.values() for r in rs)
    sneakers = next(r for r in groups["neutral"] if r.item.sku == "C1")
    assert "white is a neutral" in sneakers.reason and "summer" in sneakers.reason
    tee = coordinate_colours(repo, catalog["A1"])  # navy (neutral) tee
    assert {r.item.sku for r in tee["neutral"]} >= {"B1", "B3", "C1"}


def test_ensemble_weights_and_reasons(catalog):
    a, b, c = catalog["A1"], catalog["A2"], catalog["A3"]
    lists = {"similarity": [(a, 0.9), (b, 0.5)], "attributes": [(b, 2.0), (c, 1.0)],
             "seasonal": [(c, 1.0)]}
    recs = ensemble(lists, {"similarity": 0.5, "attributes": 0.3, "seasonal": 0.2}, k=3)
    scores = {r.item.sku: r.score for r in recs}
    assert scores["A1"] == pytest.approx(0.5)
    assert scores["A2"] == pytest.approx(0.3)  # bottom of similarity (0) + top of attributes
    assert scores["A3"] == pytest.approx(0.2)  # bottom of attributes + top (tie) of seasonal
    assert recs[0].sources == {"similarity": 0.5}
    assert "similarity 0.50" in recs[0].reason
    assert [r.item.sku for r in ensemble(lists, k=3, exclude=["A1"])][0] != "A1"
    with pytest.raises(ValueError, match="no weight"):
        ensemble({"other": [(a, 1.0)]})


def test_ensemble_for_item(repo, catalog):
    base = catalog["A1"]
    similar = [(catalog["A2"], 0.95), (catalog["A4"], 0.9), (catalog["B3"], 0.1)]
    recs = ensemble_for_item(repo, base, similar, k=5)
    assert recs and all(r.item.sku != "A1" for r in recs)
    assert recs[0].item.sku == "A2"  # visually closest, same category, colour and season
    assert set(recs[0].sources) == {"similarity", "attributes", "seasonal"}


def test_a_boost_list_never_brings_in_items_alone(catalog):
    a, b, c = catalog["A1"], catalog["A2"], catalog["A3"]
    lists = {"similarity": [(a, 0.9), (b, 0.5)], "attributes": [], "seasonal": [(b, 1.0),
                                                                                 (c, 1.0)]}
    recs = ensemble(lists, k=5, boosts=("seasonal",))
    assert [r.item.sku for r in recs] == ["A1", "A2"]  # A3 was only in season
    assert set(recs[1].sources) == {"similarity", "seasonal"}


def test_ensemble_for_item_picks_only_look_alikes_and_attribute_matches(repo, catalog):
    base = catalog["A1"]
    similar = [(catalog["A2"], 0.95)]
    recs = ensemble_for_item(repo, base, similar, k=10)
    found = {it.sku for it, _ in similar} | {
        r.item.sku for r in recommend_by_attributes(
            repo, category=base.category, color=base.attrs.get("color"),
            pattern=base.attrs.get("pattern"), season=base.attrs.get("season"), k=100,
            exclude=[base.sku])}
    assert recs and {r.item.sku for r in recs} <= found


def test_an_empty_colour_relation_says_why():
    from core.search.recommend import relation_note

    assert relation_note("black", "complementary").startswith(
        "Black is a neutral shade: no colour is complementary to it")
    assert "dark green" in relation_note("red", "complementary")  # colours, but no items
    assert "unknown" in relation_note(None, "neutral")
