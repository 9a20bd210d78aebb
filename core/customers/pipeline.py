"""`customers simulate` end to end: read the catalog and stores, simulate, store the result;
and what the pages and the CLI read back (customers, purchases, the record of the run).

A run replaces the previous one: its customers and purchases (ids derived from the seed's
draws, C001…, C001-01…) are upserted and every other customer or purchase document is
deleted, and the items' popularity is set to the run's final counts. Re-running with the same
settings therefore leaves exactly the same documents, never duplicates. An imported purchase
history (:mod:`core.customers.importer`) takes the same place: the same collections and the
same ``runs`` document, with ``"kind": "import"``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from core.customers.catalog import CatalogView
from core.customers.customers import Customer, Purchase
from core.customers.geo import haversine_km
from core.customers.params import SimulationConfig, SimulationError
from core.customers.simulation import Simulation, simulate
from core.demo.stores import STORES
from core.progress import Progress
from core.storage.records import Store

RUN_ID = "simulate"  # the `runs` document that records the current simulation


def stores_of(repo) -> list[Store]:
    """The catalog's stores; the demo retailer's when the catalog has none (homes still need a
    city, and items without a known store score a neutral proximity)."""
    return repo.stores() or [Store(**s) for s in STORES]


def run_simulation(repo, cfg: SimulationConfig, progress: Progress | None = None) -> dict:
    """Simulate on the whole catalog, store customers, purchases and popularity; a summary."""
    cfg.check()
    if repo.count_items() == 0:
        raise SimulationError("the catalog is empty: build the demo catalog (`python -m core "
                              "demo ensure`) or ingest a folder first")
    stores = stores_of(repo)
    catalog = CatalogView.build(list(repo.iter_items()), stores)
    sim = simulate(catalog, stores, cfg, progress)
    repo.replace_docs("customers", [c.to_doc() for c in sim.customers])
    repo.replace_docs("purchases", [p.to_doc() for p in sim.purchases])
    repo.set_popularity(dict(zip(catalog.skus, sim.popularity.tolist(), strict=True)))
    report = summary(sim)
    repo.put_docs("runs", [{"_id": RUN_ID, "kind": RUN_ID, "params": cfg.to_json(),
                            "catalog_version": repo.catalog_version(), "summary": report}])
    return report


def summary(sim: Simulation) -> dict:
    """What a run produced, in figures a person can check at a glance."""
    return {**history_summary(sim.catalog, sim.customers, sim.purchases, sim.popularity),
            "params": sim.config.to_json()}


def history_summary(catalog: CatalogView, customers: list[Customer], purchases: list[Purchase],
                    popularity: np.ndarray) -> dict:
    """Customers, purchases, period, tastes, distances and homes of a purchase history
    (simulated or imported; every purchase's sku is in ``catalog``)."""
    rows = catalog.rows_of([p.sku for p in purchases])
    dist = _purchase_distances(catalog, customers, purchases, rows)
    trend = [c.trendiness for c in customers]
    return {
        "customers": len(customers), "purchases": len(purchases),
        "items_bought": len(set(rows.tolist())),
        "first": min(p.date for p in purchases) if purchases else None,
        "last": max(p.date for p in purchases) if purchases else None,
        "trend_seekers": sum(t >= 2 / 3 for t in trend),
        "crowd_followers": sum(t <= 1 / 3 for t in trend),
        "median_distance_km": round(float(np.median(dist)), 1) if len(dist) else None,
        "cities": dict(Counter(c.home_city for c in customers).most_common()),
        "popularity_max": float(np.max(popularity, initial=0.0)),
    }


def _purchase_distances(catalog: CatalogView, customers: list[Customer],
                        purchases: list[Purchase], rows: np.ndarray) -> np.ndarray:
    """Km from each buyer's home to the store of what they bought (purchases from a known
    store only): one haversine per purchase."""
    by_id = {c.customer_id: c for c in customers}
    homes = np.array([(by_id[p.customer_id].lat, by_id[p.customer_id].lon)
                      for p in purchases], dtype=np.float64).reshape(-1, 2)
    stores = np.array([(s.lat, s.lon) for s in catalog.store_list],
                      dtype=np.float64).reshape(-1, 2)
    codes = catalog.store_codes[rows]
    known = codes >= 0
    return haversine_km(homes[known, 0], homes[known, 1], stores[codes[known], 0],
                        stores[codes[known], 1])


def last_run(repo) -> dict | None:
    """The stored record of the current simulation (params, summary), None before any."""
    return repo.get_doc("runs", RUN_ID)


def load_customers(repo) -> list[Customer]:
    return [Customer.from_doc(d) for d in repo.find_docs("customers", sort="_id")]


def get_customer(repo, customer_id: str) -> Customer:
    """One stored customer; KeyError saying what exists when there is no such customer."""
    doc = repo.get_doc("customers", str(customer_id))
    if doc is None:
        known = repo.count_docs("customers")
        first = repo.find_docs("customers", sort="_id", limit=1)
        hint = (f"there are {known} customers ({first[0]['_id']}…)" if known and first
                else "run the simulation first (`python -m core customers simulate`) or import a "
                     "purchase history (`python -m core customers import FILE`)")
        raise KeyError(f"no customer {customer_id!r}: {hint}")
    return Customer.from_doc(doc)


def load_purchases(repo, customer_id: str | None = None) -> list[Purchase]:
    """Purchases in time order (one customer's, or everyone's)."""
    filters = {"customer_id": customer_id} if customer_id else None
    docs = repo.find_docs("purchases", filters, sort="ts")
    return sorted((Purchase.from_doc(d) for d in docs), key=lambda p: (p.ts, p.purchase_id))
