"""The Customers page's store map, drawn without any online map service.

Country outlines and coastlines come from a file shipped with the code (Natural Earth's 1:110m
countries as TopoJSON, from the world-atlas package; see data/LICENSE-world-atlas.txt), drawn as
lines on a longitude/latitude plot: the map works offline and in every browser. Stores are
squares (bigger where more customers live), the chosen customer's home a star with a dotted
line to each store they bought from. City labels are placed so that none overprints another or
a marker: each tries above, below, right and left of its store, the chosen customer's stores
first (these may cover another store's marker), then the busiest; a store whose label finds no
room is named on hover.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go

from core.customers.customers import Customer
from core.storage.records import Store

OUTLINES = Path(__file__).with_name("data") / "countries-110m.json"
STORE_COLOUR, HOME_COLOUR = "#1f4e79", "#d62728"
LAND_COLOUR, SEA_COLOUR = "#9aa5b1", "#f4f7fb"
PLOT_PX = (760, 380)  # the plot area the labels are placed for (wide column of the page)
CHAR_PX, LINE_PX, GAP_PX = 6.6, 15.0, 9.0  # an 11 px label: width per character, height, gap
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@lru_cache(maxsize=1)
def outlines() -> tuple[list[float | None], list[float | None]]:
    """Longitudes and latitudes of every coastline and border arc, arcs separated by None."""
    topo = json.loads(OUTLINES.read_text(encoding="utf-8"))
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    lons: list[float | None] = []
    lats: list[float | None] = []
    for arc in topo["arcs"]:
        x = y = 0
        for dx, dy in arc:  # delta-encoded, quantized positions
            x, y = x + dx, y + dy
            lon = round(x * sx + tx, 3)
            if lons and lons[-1] is not None and abs(lon - lons[-1]) > 180:
                lons.append(None)  # crossing the antimeridian: no line across the map
                lats.append(None)
            lons.append(lon)
            lats.append(round(y * sy + ty, 3))
        lons.append(None)
        lats.append(None)
    return lons, lats


def view(stores: Sequence[Store], customers: Sequence[Customer], pad: float = 12.0
         ) -> tuple[list[float], list[float]]:
    """Longitude and latitude ranges around the stores and homes."""
    lons = [s.lon for s in stores] + [c.lon for c in customers]
    lats = [s.lat for s in stores] + [c.lat for c in customers]
    if not lons:
        return [-180.0, 180.0], [-60.0, 80.0]
    return ([max(-180.0, min(lons) - pad), min(180.0, max(lons) + pad)],
            [max(-90.0, min(lats) - pad), min(90.0, max(lats) + pad)])


def _to_px(lon: float, lat: float, xr: list[float], yr: list[float]) -> tuple[float, float]:
    return ((lon - xr[0]) / (xr[1] - xr[0]) * PLOT_PX[0],
            (yr[1] - lat) / (yr[1] - yr[0]) * PLOT_PX[1])


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _candidates(x: float, y: float, text: str) -> list[tuple[str, Box]]:
    w, h = CHAR_PX * len(text), LINE_PX
    return [("top center", (x - w / 2, y - GAP_PX - h, x + w / 2, y - GAP_PX)),
            ("bottom center", (x - w / 2, y + GAP_PX, x + w / 2, y + GAP_PX + h)),
            ("middle right", (x + GAP_PX, y - h / 2, x + GAP_PX + w, y + h / 2)),
            ("middle left", (x - GAP_PX - w, y - h / 2, x - GAP_PX, y + h / 2))]


def place_labels(stores: Sequence[Store], first: Sequence[str], living: Counter,
                 xr: list[float], yr: list[float]) -> list[tuple[str, str]]:
    """Per store, (label, text position): "" where no position is free of other labels and
    markers. Stores in ``first`` are placed first (and may cover a marker), then those with the
    most customers."""
    points = [_to_px(s.lon, s.lat, xr, yr) for s in stores]
    markers: list[Box] = [(x - 6, y - 6, x + 6, y + 6) for x, y in points]
    taken: list[Box] = []  # the labels placed so far
    out = [("", "top center")] * len(stores)
    order = sorted(range(len(stores)), key=lambda i: (stores[i].store_id not in first,
                                                      -living[stores[i].store_id], i))
    for i in order:
        for position, box in _candidates(*points[i], stores[i].city):
            inside = box[0] >= 0 and box[2] <= PLOT_PX[0] and box[1] >= 0 and box[3] <= PLOT_PX[1]
            # the chosen customer's stores are always named, if need be over another marker
            avoid = taken if stores[i].store_id in first else taken + markers
            if inside and not any(_overlaps(box, t) for t in avoid):
                out[i] = (stores[i].city, position)
                taken.append(box)
                break
    return out


def map_figure(stores: Sequence[Store], customers: Sequence[Customer],
               chosen: Customer | None = None, bought_at: Sequence[str] = (),
               height: int = 420) -> go.Figure:
    """Country outlines, stores (bigger where more customers live, labelled where there is
    room), the chosen customer's home and dotted lines to the stores they bought from."""
    xr, yr = view(stores, customers)
    lons, lats = outlines()
    fig = go.Figure(go.Scatter(x=lons, y=lats, mode="lines", name="coast and borders",
                               line={"color": LAND_COLOUR, "width": 0.8}, hoverinfo="skip",
                               showlegend=False))
    by_id = {s.store_id: s for s in stores}
    visited = [by_id[sid] for sid in dict.fromkeys(bought_at) if sid in by_id]
    for s in visited if chosen is not None else []:
        fig.add_trace(go.Scatter(x=[chosen.lon, s.lon], y=[chosen.lat, s.lat], mode="lines",
                                 line={"color": HOME_COLOUR, "width": 2, "dash": "dot"},
                                 hoverinfo="skip", showlegend=False))
    living = Counter(c.home_store for c in customers)
    first = [s.store_id for s in visited] + ([chosen.home_store] if chosen else [])
    labels = place_labels(stores, first, living, xr, yr)
    fig.add_trace(go.Scatter(
        x=[s.lon for s in stores], y=[s.lat for s in stores], mode="markers+text",
        name="stores", text=[t for t, _ in labels], textposition=[p for _, p in labels],
        textfont={"size": 11, "color": "#222222"},
        customdata=[[s.city, living[s.store_id]] for s in stores],
        hovertemplate="%{customdata[0]} store<br>%{customdata[1]} customers live nearby"
                      "<extra></extra>",
        marker={"symbol": "square", "color": STORE_COLOUR,
                "size": [9 + 3 * min(living[s.store_id], 6) for s in stores]}))
    if chosen is not None:
        fig.add_trace(go.Scatter(
            x=[chosen.lon], y=[chosen.lat], mode="markers", name=f"{chosen.name}'s home",
            hovertemplate=f"{chosen.name}<br>near {chosen.home_city}<extra></extra>",
            marker={"symbol": "star", "size": 18, "color": HOME_COLOUR,
                    "line": {"width": 1, "color": "white"}}))
    axis = {"title": None, "showgrid": False, "zeroline": False, "ticksuffix": "°"}
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      plot_bgcolor=SEA_COLOUR, legend={"orientation": "h", "y": -0.08},
                      xaxis={**axis, "range": xr}, yaxis={**axis, "range": yr})
    return fig
