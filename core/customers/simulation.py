"""The purchase generator: customers shop over a period, popularity evolves as they do.

Every purchase is drawn from the items the customer wears (their gender or unisex) that they
have not bought yet, each weighted by

* style: how the item fits their style, which starts as their favourite categories and
  colours and grows with every purchase (they buy to go with what they own): the best
  category affinity to a style category (:mod:`core.customers.affinity`, squared), times 1
  for a style colour or OFF_COLOUR for another;
* taste: the popularity adjustment of :mod:`core.customers.popularity` on the counts *at that
  moment* (crowd-followers pick popular items, trend-seekers niche ones), and for
  trend-seekers a boost for items rising right now (bought in the last RISING_WINDOW_DAYS);
* distance: the proximity of the item's store to their home, ``exp(-d / scale)``;

and now and then (EXPLORE) on a whim: any item they wear, weighted by distance only. Each
purchase adds 1 to the item's
count. Everything is drawn from one generator seeded by ``config.seed``: the same seed and
catalog give the same customers, purchases and popularity.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass

import numpy as np

from core.customers.catalog import CatalogView
from core.customers.customers import Customer, Purchase, make_customers
from core.customers.params import SimulationConfig, SimulationError
from core.customers.popularity import initial_counts, normalised, popularity_adjustment
from core.progress import Progress
from core.storage.records import Store

STYLE_SHARPNESS = 2.0  # category affinity squared: same 1, same family 0.49, worn with 0.16
OFF_COLOUR = 0.3  # weight of a colour outside the customer's style
EXPLORE = 0.1  # share of purchases made on a whim (any wearable item nearby)
RISING_WINDOW_DAYS = 14
RISING_BOOST = 0.5  # per recent purchase, times the customer's trendiness
DAY = 86_400


@dataclass
class Simulation:
    config: SimulationConfig
    catalog: CatalogView
    customers: list[Customer]
    purchases: list[Purchase]  # in time order
    initial: np.ndarray  # popularity counts before the period, per catalog row
    popularity: np.ndarray  # after it


def schedule(rng: np.random.Generator, n_customers: int, cfg: SimulationConfig
             ) -> list[tuple[float, int]]:
    """(seconds from the start, customer index) of every purchase, in time order."""
    events = []
    for ci in range(n_customers):
        n = int(rng.integers(1, cfg.max_purchases + 1))
        events += [(float(t), ci) for t in rng.uniform(0, cfg.days * DAY, size=n)]
    return sorted(events)


class _Shop:
    """The counts as they evolve, and the recent purchases trend-seekers watch."""

    def __init__(self, counts: np.ndarray):
        self.counts = counts
        self.recent = np.zeros_like(counts)
        self._window: deque[tuple[float, int]] = deque()

    def advance(self, now: float) -> None:
        while self._window and self._window[0][0] < now - RISING_WINDOW_DAYS * DAY:
            self.recent[self._window.popleft()[1]] -= 1

    def buy(self, now: float, row: int) -> None:
        self.counts[row] += 1
        self.recent[row] += 1
        self._window.append((now, row))


def _weights(catalog: CatalogView, customer: Customer, owned: list[int],
             cfg: SimulationConfig, shop: _Shop, allowed: np.ndarray) -> np.ndarray:
    style = catalog.in_style(
        [*customer.categories, *(catalog.items[r].category for r in owned)],
        [*customer.colors, *(str(catalog.colors[r]) for r in owned)],
        off_colour=OFF_COLOUR, sharpness=STYLE_SHARPNESS)
    taste = popularity_adjustment(normalised(shop.counts), customer.trendiness,
                                  cfg.p_threshold, cfg.penalty_exponent)
    rising = 1.0 + RISING_BOOST * customer.trendiness * shop.recent
    near = catalog.proximity_from(customer.lat, customer.lon, cfg.distance_scale_km)
    return style * taste * rising * near * allowed


def simulate(catalog: CatalogView, stores: list[Store], cfg: SimulationConfig,
             progress: Progress | None = None) -> Simulation:
    """Customers and their time-stamped purchases over ``cfg.days`` days."""
    cfg.check()
    if not len(catalog):
        raise SimulationError("the catalog is empty: build the demo catalog or ingest a folder")
    if not stores:
        raise SimulationError("no stores to place customers around")
    rng = np.random.default_rng([cfg.seed, 0x5151])
    initial = initial_counts(rng, len(catalog), cfg.p_max)
    shop = _Shop(initial.copy())
    customers = make_customers(rng, catalog, stores, cfg.num_customers)
    events = schedule(rng, len(customers), cfg)
    bought: list[list[int]] = [[] for _ in customers]
    purchases: list[Purchase] = []
    start = cfg.start_date()
    for done, (now, ci) in enumerate(events, 1):
        shop.advance(now)
        c = customers[ci]
        allowed = catalog.wearable_by(c.gender).astype(np.float64)
        allowed[bought[ci]] = 0.0
        if rng.random() < EXPLORE:
            w = allowed * catalog.proximity_from(c.lat, c.lon, cfg.distance_scale_km)
        else:
            w = _weights(catalog, c, bought[ci], cfg, shop, allowed)
        if w.sum() > 0:
            row = int(rng.choice(len(w), p=w / w.sum()))
            shop.buy(now, row)
            bought[ci].append(row)
            purchases.append(_purchase(catalog, c, row, start + dt.timedelta(seconds=now),
                                       len(bought[ci])))
        if progress and (done == len(events) or done % max(1, len(events) // 100) == 0):
            progress(done, len(events))
    return Simulation(cfg, catalog, customers, purchases, initial, shop.counts)


def _purchase(catalog: CatalogView, c: Customer, row: int, when: dt.datetime, n: int
              ) -> Purchase:
    item = catalog.items[row]
    return Purchase(purchase_id=f"{c.customer_id}-{n:02d}", customer_id=c.customer_id,
                    sku=item.sku, ts=when.isoformat(timespec="seconds"),
                    store_id=item.store_id, price=item.price)
