"""Distances on the globe and how near a store feels to a customer.

Great-circle distance by the haversine formula on a spherical Earth (mean radius 6371 km,
within 0.5 % of the ellipsoid), and a proximity score ``exp(-d / scale)`` in (0, 1]: 1 at
the door, 0.37 at ``scale`` km, next to nothing in another country.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = np.pi * EARTH_RADIUS_KM / 180  # along a meridian
UNKNOWN_PROXIMITY = 0.5  # items whose store (or location) is unknown: neither near nor far


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def proximity(distance_km, scale_km: float) -> np.ndarray:
    """exp(-distance / scale) in (0, 1]; NaN distances (unknown store) get UNKNOWN_PROXIMITY."""
    d = np.asarray(distance_km, dtype=float)
    return np.where(np.isnan(d), UNKNOWN_PROXIMITY, np.exp(-np.nan_to_num(d) / scale_km))


def jitter(rng: np.random.Generator, lat: float, lon: float, km: float) -> tuple[float, float]:
    """A point about ``km`` from (lat, lon) in a random direction (Gaussian offsets)."""
    north, east = rng.normal(0.0, km, size=2)
    lat2 = lat + north / KM_PER_DEGREE
    lon2 = lon + east / (KM_PER_DEGREE * max(np.cos(np.radians(lat)), 1e-6))
    return float(np.clip(lat2, -90, 90)), float((lon2 + 180) % 360 - 180)
