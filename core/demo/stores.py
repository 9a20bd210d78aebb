"""The demo retailer's stores, in real cities with their real coordinates."""

from __future__ import annotations

# (store_id, city, latitude, longitude)
_CITIES = (
    ("S01", "Paris", 48.8566, 2.3522),
    ("S02", "London", 51.5074, -0.1278),
    ("S03", "Milan", 45.4642, 9.1900),
    ("S04", "New York", 40.7128, -74.0060),
    ("S05", "Tokyo", 35.6762, 139.6503),
    ("S06", "Berlin", 52.5200, 13.4050),
    ("S07", "Madrid", 40.4168, -3.7038),
    ("S08", "Amsterdam", 52.3676, 4.9041),
    ("S09", "Stockholm", 59.3293, 18.0686),
    ("S10", "Seoul", 37.5665, 126.9780),
    ("S11", "Los Angeles", 34.0522, -118.2437),
    ("S12", "Sydney", -33.8688, 151.2093),
)

STORES: list[dict] = [
    {"store_id": sid, "name": f"Fashion Studio {city}", "city": city, "lat": lat, "lon": lon}
    for sid, city, lat, lon in _CITIES
]
STORE_IDS: tuple[str, ...] = tuple(s["store_id"] for s in STORES)
