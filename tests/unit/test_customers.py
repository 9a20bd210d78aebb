"""Customers simulation and the fused score: distances, popularity penalty, category affinity,
determinism of the simulation, score ordering and ablation, evaluation metrics."""

from __future__ import annotations

import numpy as np
import pytest

from core.customers.affinity import (
    SAME_FAMILY,
    UNRELATED,
    WORN_TOGETHER,
    affinity_matrix,
    category_affinity,
)
from core.customers.catalog import CatalogView
from core.customers.customers import Customer, Purchase
from core.customers.evaluate import evaluate, rank_of, variants
from core.customers.geo import UNKNOWN_PROXIMITY, haversine_km, jitter, proximity
from core.customers.params import PARTS, FusionConfig, SimulationConfig, SimulationError
from core.customers.popularity import (
    POP_FLOOR,
    normalised,
    popularity_adjustment,
    trend_penalty,
)
from core.customers.score import customer_parts, fuse, rank
from core.customers.simulation import simulate
from core.demo.stores import STORES
from core.search.ranking import top_indices
from core.storage import Item, Store

CITY = {s["city"]: Store(**s) for s in STORES}
PARIS, LONDON, NEW_YORK = CITY["Paris"], CITY["London"], CITY["New York"]
CATS = ("tee", "hoodie", "jeans", "dress", "sneakers", "skirt")
COLOURS = ("navy", "red", "white")


def _items(n: int = 36) -> list[Item]:
    """n items cycling through categories, colours, genders and three stores."""
    stores = (PARIS, LONDON, NEW_YORK)
    genders = ("women", "men", "unisex", "women")
    return [Item(sku=f"I{i:03d}", image_path=f"images/{i}.jpg", hash=f"h{i}",
                 category=CATS[i % len(CATS)], attrs={"color": COLOURS[i % 3 - (i // 7) % 2]},
                 gender=genders[i % 4], store_id=stores[i % 3].store_id, price=10.0 + i)
            for i in range(n)]


@pytest.fixture
def catalog() -> CatalogView:
    return CatalogView.build(_items(), [PARIS, LONDON, NEW_YORK])


def _customer(trendiness: float = 0.5, home: Store = PARIS, gender: str = "women") -> Customer:
    return Customer("C001", "Test Customer", gender, trendiness, home.city, home.store_id,
                    home.lat, home.lon, ["tee"], ["navy"])


# -- geography ----------------------------------------------------------------------------
def test_haversine_known_distances():
    assert haversine_km(PARIS.lat, PARIS.lon, LONDON.lat, LONDON.lon) == pytest.approx(344, abs=2)
    la = CITY["Los Angeles"]
    assert haversine_km(NEW_YORK.lat, NEW_YORK.lon, la.lat, la.lon) == pytest.approx(3936, abs=15)
    assert haversine_km(PARIS.lat, PARIS.lon, PARIS.lat, PARIS.lon) == 0
    there = haversine_km(PARIS.lat, PARIS.lon, CITY["Sydney"].lat, CITY["Sydney"].lon)
    back = haversine_km(CITY["Sydney"].lat, CITY["Sydney"].lon, PARIS.lat, PARIS.lon)
    assert there == pytest.approx(back) and 16_900 < there < 17_000


def test_proximity_and_jitter():
    assert proximity(0.0, 100) == 1.0
    assert proximity(100.0, 100) == pytest.approx(np.exp(-1))
    assert proximity(np.nan, 100) == UNKNOWN_PROXIMITY
    near = proximity(np.array([5.0, 50.0, 500.0]), 100)
    assert list(near) == sorted(near, reverse=True) and near[-1] < 0.01
    rng = np.random.default_rng(0)
    homes = [jitter(rng, PARIS.lat, PARIS.lon, 6.0) for _ in range(200)]
    d = haversine_km(PARIS.lat, PARIS.lon, *np.array(homes).T)
    assert 3 < float(np.median(d)) < 12 and float(d.max()) < 40  # a few km around the city


# -- popularity ---------------------------------------------------------------------------
def test_trendy_customers_penalise_very_popular_items_others_do_not():
    thr, exp = 0.15, 4.0
    niche, hit = 0.1, 0.95
    trendy = popularity_adjustment([niche, hit], 1.0, thr, exp)
    crowd = popularity_adjustment([niche, hit], 0.0, thr, exp)
    assert trendy[1] < trendy[0] and crowd[1] > crowd[0]
    assert trendy[0] == 1.0  # at or below the threshold: no penalty
    assert trend_penalty(0.5, thr, exp) == pytest.approx((0.5 / 0.85) ** 4)
    p = np.linspace(thr, 1, 20)
    assert np.all(np.diff(trend_penalty(p, thr, exp)) < 0)  # the more popular, the worse
    assert trend_penalty(0.6, thr, 8.0) < trend_penalty(0.6, thr, 2.0)  # exponent: steeper
    mid = popularity_adjustment(hit, 0.5, thr, exp)
    assert trendy[1] < mid < crowd[1]  # trendiness blends the two
    assert popularity_adjustment(0.0, 0.0, thr, exp) == POP_FLOOR


def test_normalised_and_counts_before():
    from core.customers.evaluate import Case, _snapshots

    assert list(normalised([0, 5, 10])) == [0.0, 0.5, 1.0]
    assert list(normalised([0, 0])) == [0.0, 0.0]
    final = [3.0, 1.0, 0.0]
    items = [Item(sku=f"P{i}", image_path="x.jpg", hash=f"p{i}", popularity=c)
             for i, c in enumerate(final)]
    cat = CatalogView.build(items, [PARIS])
    events = [(0, "2025-01-02T10:00:00"), (0, "2025-01-05T10:00:00"), (1, "2025-01-05T09:00:00")]
    bought = [Purchase(f"C-{n}", "C", f"P{r}", ts, None, None) for n, (r, ts) in enumerate(events)]
    cases = [Case(_customer(), np.array([0]), 0, cutoff)
             for cutoff in ("2025-01-05T09:00:00", "2025-02-01T00:00:00")]
    seen = {case.cutoff: pop for case, pop in _snapshots(cat, bought, cases)}
    # the counts just before each cutoff, normalised by their largest
    assert list(seen["2025-01-05T09:00:00"]) == list(normalised([2.0, 0.0, 0.0]))
    assert list(seen["2025-02-01T00:00:00"]) == list(normalised(final))


# -- category affinity --------------------------------------------------------------------
def test_category_affinity_is_symmetric_with_a_unit_diagonal():
    from core.taxonomy import CATEGORIES

    m = affinity_matrix(list(CATEGORIES))
    assert np.allclose(m, m.T) and np.all(np.diag(m) == 1.0)
    assert m.min() == UNRELATED and m[m < 1].max() == SAME_FAMILY
    assert category_affinity("tee", "hoodie") == SAME_FAMILY  # both tops
    assert category_affinity("tee", "jeans") == WORN_TOGETHER  # top with bottom
    assert category_affinity("dress", "skirt") == UNRELATED  # never worn together
    assert category_affinity("kimono", "kimono") == 1.0
    assert category_affinity("kimono", "tee") == UNRELATED  # outside the taxonomy


# -- simulation ---------------------------------------------------------------------------
def _run(catalog: CatalogView, **changes):
    cfg = SimulationConfig(**{"num_customers": 8, "max_purchases": 4, **changes})
    return simulate(catalog, catalog.store_list, cfg)


def test_simulation_is_deterministic_for_a_seed(catalog):
    a, b = _run(catalog), _run(catalog)
    assert [c.to_doc() for c in a.customers] == [c.to_doc() for c in b.customers]
    assert [p.to_doc() for p in a.purchases] == [p.to_doc() for p in b.purchases]
    assert np.array_equal(a.popularity, b.popularity)
    other = _run(catalog, seed=7)
    assert [p.sku for p in other.purchases] != [p.sku for p in a.purchases]


def test_simulated_purchases_are_plausible(catalog):
    sim = _run(catalog, days=30)
    assert len(sim.customers) == 8 and {c.customer_id for c in sim.customers} == {
        f"C{i:03d}" for i in range(1, 9)}
    assert [p.ts for p in sim.purchases] == sorted(p.ts for p in sim.purchases)
    assert "2025-01-01" <= sim.purchases[0].date and sim.purchases[-1].date <= "2025-01-31"
    by_id = {c.customer_id: c for c in sim.customers}
    for c in sim.customers:
        mine = [p.sku for p in sim.purchases if p.customer_id == c.customer_id]
        assert 1 <= len(mine) <= 4 and len(set(mine)) == len(mine)  # no re-buys
        assert 0 <= c.trendiness <= 1 and c.categories and c.colors
        assert haversine_km(c.lat, c.lon, CITY[c.home_city].lat, CITY[c.home_city].lon) < 40
    for p in sim.purchases:  # everyone shops for their gender (or unisex)
        item = catalog.items[catalog.row[p.sku]]
        assert item.gender in (by_id[p.customer_id].gender, "unisex")
    bought = np.bincount(catalog.rows_of([p.sku for p in sim.purchases]), minlength=len(catalog))
    assert np.array_equal(sim.popularity, sim.initial + bought)  # +1 per purchase
    assert sim.initial.max() <= 100 and sim.initial.min() >= 0


def test_customers_mostly_shop_near_home(catalog):
    sim = _run(catalog, num_customers=30)
    homes = {c.customer_id: c.home_store for c in sim.customers}
    local = np.mean([p.store_id == homes[p.customer_id] for p in sim.purchases])
    assert local > 0.9  # the nearest other store is 344 km away: exp(-3.4) at 100 km


def test_bad_settings_are_refused(catalog):
    bad = SimulationConfig(num_customers=-1, max_purchases=0, p_threshold=1.5, start="soon")
    fields = [f for f, _ in bad.problems()]
    assert fields == ["num_customers", "max_purchases", "start", "p_threshold"]
    with pytest.raises(SimulationError, match="num_customers must be at least 1"):
        simulate(catalog, catalog.store_list, bad)
    with pytest.raises(SimulationError, match="catalog is empty"):
        simulate(CatalogView.build([], [PARIS]), [PARIS], SimulationConfig())
    assert FusionConfig(visual=-1).problems()[0][0] == "visual"
    with pytest.raises(SimulationError, match="unknown score part"):
        FusionConfig().with_weights({"price": 1.0})


# -- the fused score ----------------------------------------------------------------------
def _vectors(catalog: CatalogView) -> np.ndarray:
    """Unit vectors that follow category and colour (what an image model would see)."""
    rng = np.random.default_rng(0)
    table: dict[str, np.ndarray] = {}
    rows = [sum(table.setdefault(k, rng.normal(size=16)) for k in (it.category,
                                                                   it.attrs["color"]))
            for it in catalog.items]
    m = np.asarray(rows, dtype=np.float64)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_fused_score_is_the_weighted_product_of_its_parts(catalog):
    vecs, c = _vectors(catalog), _customer()
    pop = normalised(np.arange(len(catalog)))
    parts = customer_parts(catalog, vecs, c, np.array([0, 1]), pop, FusionConfig())
    assert all(parts[p].shape == (2, len(catalog)) for p in PARTS)
    assert all(parts[p].min() >= 0 and parts[p].max() <= 1 for p in PARTS)
    product = np.prod([parts[p] for p in PARTS], axis=0)
    assert np.allclose(fuse(parts, FusionConfig()), product)
    assert np.allclose(fuse(parts, FusionConfig(visual=2.0)), product * parts["visual"])
    none = FusionConfig(visual=0, popularity=0, category=0, proximity=0)
    assert np.all(fuse(parts, none) == 1.0)
    r = rank(parts, FusionConfig())
    best = product.max(axis=0)
    assert np.allclose(r.scores, best) and np.allclose(
        np.prod([r.parts[p] for p in PARTS], axis=0), best)  # the parts explain the score


def test_score_orders_by_look_category_and_store():
    """A look-alike of the purchase in the customer's city ranks first; dropping proximity
    lets a more popular look-alike abroad win; dropping looks and category leaves popularity
    x nearby."""
    spec = [("tee", "navy", PARIS), ("tee", "navy", PARIS), ("tee", "navy", LONDON),
            ("hoodie", "navy", PARIS), ("jeans", "navy", PARIS), ("skirt", "red", PARIS),
            ("dress", "white", PARIS), ("dress", "white", NEW_YORK)]
    items = [Item(sku=f"I{i}", image_path="x.jpg", hash=f"h{i}", category=cat,
                  attrs={"color": col}, gender="women", store_id=store.store_id)
             for i, (cat, col, store) in enumerate(spec)]
    catalog = CatalogView.build(items, [PARIS, LONDON, NEW_YORK])
    vecs, c = _vectors(catalog), _customer(trendiness=0.0)
    pop = np.full(len(catalog), 0.5)
    pop[2] = 1.0  # the twin abroad is the more popular
    allowed = np.ones(len(catalog), dtype=bool)
    allowed[0] = False  # the purchase itself
    parts = customer_parts(catalog, vecs, c, np.array([0]), pop, FusionConfig())
    scores = rank(parts, FusionConfig(), allowed).scores
    order = list(top_indices(scores, 7))
    assert order[:2] == [1, 3]  # the twin at home, then a navy top at home
    assert order.index(4) < order.index(5)  # navy jeans go with a navy tee, a red skirt less
    assert order.index(2) > order.index(3)  # the twin abroad pays for the distance
    assert scores[7] < 1e-6  # 5,800 km away: nothing makes up for that at a 100 km scale
    without = top_indices(rank(parts, FusionConfig().without("proximity"), allowed).scores, 1)
    assert without[0] == 2  # as alike and more popular: wins once distance does not count
    flat = rank(parts, FusionConfig(visual=0, category=0), allowed).scores
    assert np.isinf(flat[0]) and flat[2] < flat[1] and flat[5] == flat[6]


def test_top_rows_is_stable_and_skips_excluded():
    scores = np.array([0.2, -np.inf, 0.5, 0.5, 0.1])
    assert list(top_indices(scores, 3)) == [2, 3, 0]
    assert list(top_indices(scores, 10)) == [2, 3, 0, 4]


# -- evaluation ---------------------------------------------------------------------------
def test_rank_counts_ties_against_the_target():
    assert rank_of(np.array([0.9, 0.5, 0.1]), 1) == 1
    assert rank_of(np.array([0.5, 0.5, 0.5]), 0) == 2  # a constant score ranks it last


def test_leave_last_out_report(catalog):
    sim = _run(catalog, num_customers=20)
    vecs = _vectors(catalog)
    catalog.popularity = sim.popularity
    cfg = FusionConfig()
    report = evaluate(catalog, vecs, sim.customers, sim.purchases, cfg, k=5)
    assert report["model"] == "fused" and report["k"] == 5
    assert report["customers"] == sum(
        1 for c in sim.customers
        if sum(p.customer_id == c.customer_id for p in sim.purchases) >= 2)
    names = {"random", "popularity", *(n for n in variants(cfg) if n != "fused")}
    assert set(report["baselines"]) == names
    for m in [report, *report["baselines"].values()]:
        assert 0 <= m["ndcg"] <= m["hit_rate"] <= 1
    assert "not a real-world A/B" in report["note"]
    again = evaluate(catalog, vecs, sim.customers, sim.purchases, cfg, k=5)
    assert again == report  # deterministic, random baseline included


def test_the_evaluation_names_its_rankings_in_words():
    from core.customers.figures import eval_caption, model_name

    assert [model_name(k) for k in ("fused", "random", "popularity", "visual", "no_visual",
                                    "no_popularity", "no_category", "no_proximity")] == [
        "fused score", "random", "most popular", "looks alike only", "without looks alike",
        "without popularity", "without category affinity", "without store distance"]
    text = eval_caption({"note": "Simulated.", "k": 10})
    assert text.startswith("Simulated.") and "in their top 10" in text
