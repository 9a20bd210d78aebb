"""Synthetic customers: who they are (home, gender, trendiness, style) and what they bought.

Both are plain dataclasses stored as ``customers`` and ``purchases`` documents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from core.customers.catalog import CatalogView
from core.customers.geo import jitter
from core.storage.records import Store

HOME_JITTER_KM = 6.0  # homes are scattered this far around their city's store
STYLE_CATEGORIES = 3
STYLE_COLOURS = 3
GENDER_WEIGHTS = {"women": 0.6, "men": 0.4}
FIRST_NAMES = {
    "women": ("Alice", "Chloé", "Emma", "Giulia", "Hana", "Ingrid", "Jade", "Lucía", "Maya",
              "Nora", "Olivia", "Sofia", "Yuna", "Zoe", "Amara", "Elif"),
    "men": ("Adam", "Bruno", "Carlos", "David", "Elias", "Felix", "Hugo", "Jonas", "Kenji",
            "Liam", "Marco", "Noah", "Oscar", "Ravi", "Sven", "Tomás"),
}
LAST_NAMES = ("Andersson", "Bianchi", "Dubois", "García", "Kim", "Müller", "Novak", "Okafor",
              "Park", "Rossi", "Sato", "Smith", "Jansen", "Silva", "Weber", "Martin")


@dataclass
class Customer:
    customer_id: str
    name: str
    gender: str
    trendiness: float  # 0 follows the crowd (popular items) .. 1 seeks new, rising items
    home_city: str
    home_store: str
    lat: float
    lon: float
    categories: list[str]  # the style: favourite categories ...
    colors: list[str]  # ... and colours

    @property
    def taste(self) -> str:
        """The trendiness in words."""
        if self.trendiness >= 2 / 3:
            return "trend-seeker"
        return "follows the crowd" if self.trendiness <= 1 / 3 else "a bit of both"

    @property
    def style(self) -> str:
        return f"{', '.join(self.categories)} in {', '.join(self.colors) or 'any colour'}"

    def to_doc(self) -> dict:
        return {"_id": self.customer_id, **asdict(self)}

    @classmethod
    def from_doc(cls, doc: dict) -> Customer:
        return cls(**{f.name: doc[f.name] for f in fields(cls)})


@dataclass
class Purchase:
    purchase_id: str
    customer_id: str
    sku: str
    ts: str  # ISO time, seconds (sorts as text)
    store_id: str | None
    price: float | None

    @property
    def date(self) -> str:
        return self.ts[:10]

    def to_doc(self) -> dict:
        return {"_id": self.purchase_id, **asdict(self)}

    @classmethod
    def from_doc(cls, doc: dict) -> Purchase:
        return cls(**{f.name: doc.get(f.name) for f in fields(cls)})


def _pick(rng: np.random.Generator, options: list, weights, k: int) -> list:
    """Up to k distinct options drawn with the given (non-negative) weights."""
    w = np.asarray(weights, dtype=np.float64)
    k = min(k, int((w > 0).sum()))
    if k == 0:
        return []
    idx = rng.choice(len(options), size=k, replace=False, p=w / w.sum())
    return [options[int(i)] for i in idx]


def _style(rng: np.random.Generator, catalog: CatalogView, wearable: np.ndarray
           ) -> tuple[list[str], list[str]]:
    """Favourite categories (a first one by how much the catalog has of it, the others
    leaning to categories related to it) and favourite colours (by catalog share)."""
    counts = np.bincount(catalog.cat_codes[wearable], minlength=len(catalog.categories))
    first = _pick(rng, list(range(len(counts))), counts, 1)
    if not first:
        return [], []
    related = counts * catalog.affinity[first[0]]
    related[first[0]] = 0
    codes = first + _pick(rng, list(range(len(counts))), related, STYLE_CATEGORIES - 1)
    colours, n = np.unique(catalog.colors[wearable & (catalog.colors != "")], return_counts=True)
    return ([catalog.categories[c] for c in codes],
            [str(c) for c in _pick(rng, list(colours), n, STYLE_COLOURS)])


def make_customers(rng: np.random.Generator, catalog: CatalogView, stores: list[Store],
                   n: int) -> list[Customer]:
    """n customers living around the stores' cities, each with a gender (one the catalog has
    clothes for), a trendiness and a style drawn from what the catalog offers them."""
    genders = [g for g in GENDER_WEIGHTS if catalog.wearable_by(g).any()] or list(GENDER_WEIGHTS)
    weights = np.array([GENDER_WEIGHTS[g] for g in genders])
    out = []
    for i in range(n):
        gender = genders[int(rng.choice(len(genders), p=weights / weights.sum()))]
        store = stores[int(rng.integers(len(stores)))]
        lat, lon = jitter(rng, store.lat, store.lon, HOME_JITTER_KM)
        first = FIRST_NAMES[gender][int(rng.integers(len(FIRST_NAMES[gender])))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        categories, colours = _style(rng, catalog, catalog.wearable_by(gender))
        out.append(Customer(
            customer_id=f"C{i + 1:03d}", name=f"{first} {last}", gender=gender,
            trendiness=round(float(rng.random()), 3), home_city=store.city,
            home_store=store.store_id, lat=round(lat, 5), lon=round(lon, 5),
            categories=categories, colors=colours))
    return out
