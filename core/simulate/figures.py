"""What the Customers page draws: the header line, the store map, the score-parts table, the
evaluation bars.

The map is a plain longitude/latitude scatter (no map tiles or online outlines: the app
works offline): stores as squares, the chosen customer's home as a star
with a line to each store they bought from (homes lie a few km from a store: a store's
square grows with the customers living near it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go

from core.simulate.customers import Customer
from core.simulate.params import PARTS
from core.simulate.service import CustomerRecommendation
from core.storage.records import Store

PART_LABELS = {"visual": "looks alike", "popularity": "popularity for their taste",
               "category": "category affinity", "proximity": "store nearby"}
PART_COLOURS = {"visual": "#1f77b4", "popularity": "#ff7f0e", "category": "#2ca02c",
                "proximity": "#9467bd"}
STORE_COLOUR, HOME_COLOUR = "#1f4e79", "#d62728"


def run_caption(run: dict | None) -> str | None:
    """The header line of the stored run: counts and period, then the seed of a simulation
    or the files of an import (None before any run)."""
    summary = (run or {}).get("summary") or {}
    if not summary:
        return None
    text = (f"{summary['customers']:,} customers · {summary['purchases']:,} purchases from "
            f"{summary['first']} to {summary['last']}")
    if run.get("kind") == "import":
        files = [f for f in (run.get("sources") or {}).values() if f]
        return f"{text} · imported from {' and '.join(files)}"
    seed = (summary.get("params") or {}).get("seed")
    return f"{text} · {summary['trend_seekers']} trend-seekers · seed {seed}"


def map_figure(stores: Sequence[Store], customers: Sequence[Customer],
               chosen: Customer | None = None, bought_at: Sequence[str] = (),
               height: int = 400) -> go.Figure:
    """Stores (bigger where more customers live), the chosen customer's home and lines to the
    stores they bought from."""
    fig = go.Figure()
    by_id = {s.store_id: s for s in stores}
    visited = [by_id[sid] for sid in dict.fromkeys(bought_at) if sid in by_id]
    for s in visited if chosen is not None else []:
        fig.add_trace(go.Scatter(x=[chosen.lon, s.lon], y=[chosen.lat, s.lat], mode="lines",
                                 line={"color": HOME_COLOUR, "width": 2, "dash": "dot"},
                                 hoverinfo="skip", showlegend=False))
    first = [s.store_id for s in visited] + ([chosen.home_store] if chosen else [])
    living = Counter(c.home_store for c in customers)
    fig.add_trace(go.Scatter(
        x=[s.lon for s in stores], y=[s.lat for s in stores], mode="markers+text", name="stores",
        text=_labels(stores, first, living), textposition="top center",
        textfont={"size": 11, "color": "#333333"},
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
    lons = [s.lon for s in stores] + [c.lon for c in customers]
    lats = [s.lat for s in stores] + [c.lat for c in customers]
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="#eef3f8",
        legend={"orientation": "h", "y": -0.08},
        xaxis={"title": None, "range": _span(lons, -180, 180), "showgrid": False,
               "zeroline": False, "ticksuffix": "°"},
        yaxis={"title": None, "range": _span(lats, -90, 90), "showgrid": False,
               "zeroline": False, "ticksuffix": "°"})
    return fig


def _span(values: Sequence[float], lo: float, hi: float, pad: float = 20.0) -> list[float]:
    return [max(lo, min(values, default=lo) - pad), min(hi, max(values, default=hi) + pad)]


def _labels(stores: Sequence[Store], first: Sequence[str], living: Counter,
            room: float = 15.0) -> list[str]:
    """City names, leaving out those that would overprint an already labelled nearby store
    (the stores in ``first`` are labelled first, then those with the most customers)."""
    order = sorted(range(len(stores)), key=lambda i: (stores[i].store_id not in first,
                                                      -living[stores[i].store_id]))
    placed: list[Store] = []
    labels = [""] * len(stores)
    for i in order:
        s = stores[i]
        if all(abs(s.lon - p.lon) > room or abs(s.lat - p.lat) > room / 2 for p in placed):
            labels[i] = s.city
            placed.append(s)
    return labels


def parts_frame(recs: Sequence[CustomerRecommendation],
                thumbnail: Callable[[str], str | None]) -> pd.DataFrame:
    """One row per recommendation: picture, score, the four parts, distance, reference."""
    rows = []
    for i, r in enumerate(recs, 1):
        rows.append({"#": i, "picture": thumbnail(r.item.sku), "item": _label(r), "sku": r.item.sku,
                     "score": r.score, **{p: r.parts[p] for p in PARTS},
                     "km": r.distance_km,
                     "because of": thumbnail(r.because) if r.because else None})
    return pd.DataFrame(rows)


def _label(r: CustomerRecommendation) -> str:
    colour = (r.item.attrs or {}).get("color")
    return f"{colour} {r.item.category}" if colour else r.item.category


def eval_frame(report: dict) -> pd.DataFrame:
    """The evaluation table: the fused score first, then the baselines and ablations."""
    rows = [{"model": "fused", "hit rate": report["hit_rate"], "NDCG": report["ndcg"]}]
    rows += [{"model": name, "hit rate": m["hit_rate"], "NDCG": m["ndcg"]}
             for name, m in report["baselines"].items()]
    return pd.DataFrame(rows)


def eval_figure(report: dict, height: int = 320) -> go.Figure:
    """Hit rate and NDCG at k per model, as grouped bars."""
    table = eval_frame(report)
    fig = go.Figure()
    for metric, colour in (("hit rate", "#1f77b4"), ("NDCG", "#ff7f0e")):
        fig.add_trace(go.Bar(x=table["model"], y=table[metric], name=f"{metric}@{report['k']}",
                             marker_color=colour, text=[f"{v:.2f}" for v in table[metric]],
                             textposition="outside"))
    fig.update_layout(barmode="group", height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis={"range": [0, 1.1], "title": None},
                      legend={"orientation": "h", "y": 1.12})
    return fig
