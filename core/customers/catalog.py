"""The catalog as arrays: what the simulation and the score read of every item.

Rows follow the order of the items given; categories and colours are also kept as integer
codes so that per-category lookups (the affinity matrix) are one fancy-index away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.customers.affinity import affinity_matrix
from core.customers.geo import haversine_km, proximity
from core.storage.records import Item, Store
from core.taxonomy import wearable_genders


@dataclass
class CatalogView:
    items: list[Item]
    stores: dict[str, Store]
    skus: list[str] = field(init=False)
    row: dict[str, int] = field(init=False)
    categories: list[str] = field(init=False)  # distinct, sorted
    cat_codes: np.ndarray = field(init=False)  # per item, index into ``categories``
    colors: np.ndarray = field(init=False)  # per item ("" when unknown)
    colour_names: list[str] = field(init=False)  # distinct, sorted
    colour_codes: np.ndarray = field(init=False)  # per item, index into ``colour_names``
    genders: np.ndarray = field(init=False)  # per item ("" when unknown)
    store_list: list[Store] = field(init=False)  # the stores, in store_id order
    store_codes: np.ndarray = field(init=False)  # per item, index into store_list, -1 unknown
    popularity: np.ndarray = field(init=False)  # the items' stored popularity
    affinity: np.ndarray = field(init=False)  # categories × categories

    def __post_init__(self) -> None:
        self.skus = [it.sku for it in self.items]
        self.row = {s: i for i, s in enumerate(self.skus)}
        self.categories = sorted({it.category for it in self.items})
        code = {c: i for i, c in enumerate(self.categories)}
        self.cat_codes = np.array([code[it.category] for it in self.items], dtype=np.int64)
        self.colors = np.array([str((it.attrs or {}).get("color") or "") for it in self.items],
                               dtype=object)
        self.colour_names = sorted(set(self.colors))
        at = {c: i for i, c in enumerate(self.colour_names)}
        self.colour_codes = np.array([at[c] for c in self.colors], dtype=np.int64)
        self.genders = np.array([it.gender or "" for it in self.items], dtype=object)
        self.store_list = [self.stores[k] for k in sorted(self.stores)]
        at = {s.store_id: i for i, s in enumerate(self.store_list)}
        self.store_codes = np.array([at.get(it.store_id or "", -1) for it in self.items],
                                    dtype=np.int64)
        self.popularity = np.array([float(it.popularity or 0.0) for it in self.items])
        self.affinity = affinity_matrix(self.categories)

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def build(cls, items: Sequence[Item], stores: Sequence[Store]) -> CatalogView:
        return cls(list(items), {s.store_id: s for s in stores})

    def rows_of(self, skus: Sequence[str]) -> np.ndarray:
        """Rows of the given skus, in order (unknown skus are left out)."""
        return np.array([self.row[s] for s in skus if s in self.row], dtype=np.int64)

    def wearable_by(self, gender: str | None) -> np.ndarray:
        """Items a customer of ``gender`` shops for: their gender, unisex or unknown."""
        fits = wearable_genders(gender)
        if fits is None:
            return np.ones(len(self), dtype=bool)
        return np.isin(self.genders, [g for g in fits if g is not None])

    def distances_km(self, lat: float, lon: float) -> np.ndarray:
        """Distance from a point to every item's store (NaN where the store is unknown)."""
        to_store = haversine_km(lat, lon, np.array([s.lat for s in self.store_list]),
                                np.array([s.lon for s in self.store_list]))
        table = np.append(np.asarray(to_store, dtype=np.float64), np.nan)  # code -1 -> NaN
        return table[self.store_codes]

    def proximity_from(self, lat: float, lon: float, scale_km: float) -> np.ndarray:
        """Store proximity of every item for someone living at (lat, lon), in (0, 1]."""
        return proximity(self.distances_km(lat, lon), scale_km)

    def in_style(self, categories: Sequence[str], colours: Sequence[str], *,
                 off_colour: float, sharpness: float) -> np.ndarray:
        """How well every item fits a style, in (0, 1]: the best category affinity to one of
        the style's categories (raised to ``sharpness``: related categories count, the same
        one most), times 1 for one of its colours and ``off_colour`` for any other."""
        codes = [i for i, c in enumerate(self.categories) if c in set(categories)]
        cats = (self.affinity[codes].max(axis=0) if codes
                else np.ones(len(self.categories))) ** sharpness
        cols = np.array([1.0 if c in set(colours) else off_colour for c in self.colour_names])
        return cats[self.cat_codes] * cols[self.colour_codes]

    def category_affinity(self, ref_rows: np.ndarray) -> np.ndarray:
        """refs × items category affinity."""
        return self.affinity[np.ix_(self.cat_codes[ref_rows], self.cat_codes)]
