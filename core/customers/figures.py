"""What the Customers page draws besides the store map (core.customers.storemap): the header
line, the customer's colours, the score-parts table, the evaluation bars and its caution."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go

from core.customers.params import PARTS
from core.customers.service import CustomerRecommendation
from core.tagging.labels import field_label

PART_LABELS = {"visual": "looks alike", "popularity": "popularity for their taste",
               "category": "category affinity", "proximity": "store nearby"}
PART_SHORT = {"visual": "looks", "popularity": "popularity", "category": "category",
              "proximity": "nearby"}
PART_COLOURS = {"visual": "#1f77b4", "popularity": "#ff7f0e", "category": "#2ca02c",
                "proximity": "#9467bd"}


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


PART_WORDS = {"visual": "looks alike", "popularity": "popularity",
              "category": "category affinity", "proximity": "store distance"}


def model_name(key: str) -> str:
    """A ranking of the evaluation as the page names it ("no_proximity": "without store
    distance")."""
    if key.startswith("no_") and key[3:] in PART_WORDS:
        return f"without {PART_WORDS[key[3:]]}"
    return {"fused": "fused score", "popularity": "most popular",
            "visual": "looks alike only"}.get(key, key)


def eval_frame(report: dict) -> pd.DataFrame:
    """The evaluation table: the fused score first, then the baselines and ablations."""
    rows = [{"model": model_name("fused"), "hit rate": report["hit_rate"],
             "NDCG": report["ndcg"]}]
    rows += [{"model": model_name(name), "hit rate": m["hit_rate"], "NDCG": m["ndcg"]}
             for name, m in report["baselines"].items()]
    return pd.DataFrame(rows)


def eval_caption(report: dict) -> str:
    """What the evaluation measured, its baselines and its two figures, in words."""
    return (f"{report['note']} Baselines: random, raw popularity, visual similarity alone, and "
            "the fused score without each of its parts. Hit rate: the share of customers "
            f"whose held-out purchase is in their top {report['k']}; NDCG also rewards "
            "ranking it higher.")


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


MIN_CUSTOMERS = 30  # below this many evaluated customers, hit rate and NDCG are rough


def sample_caution(n: int) -> str | None:
    """A warning when an evaluation rests on few customers (None from MIN_CUSTOMERS on)."""
    if n >= MIN_CUSTOMERS:
        return None
    step = 1 / max(n, 1)
    return (f"**Only {n} customer{'s' if n != 1 else ''} evaluated: these figures are rough.** "
            f"One customer more or less moves the hit rate by {step:.2f}; simulate at least "
            f"{MIN_CUSTOMERS} customers before comparing models.")


def customer_label(customer) -> str:
    """How the customer picker names a customer: "C007 · Ana Ruiz (Lyon)"."""
    return f"{customer.customer_id} · {customer.name} ({customer.home_city})"


def reference_label(sku: str | None, item=None) -> str:
    """How "Recommend from" names a purchase: "red dress (SKU)"; ``sku`` None: the whole
    history."""
    if sku is None:
        return "everything they bought"
    colour = item.attrs.get("color", "") if item is not None else ""
    category = item.category if item is not None else ""
    return f"{colour} {category} ({sku})".strip()


SCORE_NOTE = ("Each score multiplies its parts (raised to their weights): how much the item looks "
              "like the purchase it comes from (last column), its popularity for this "
              "customer's taste, how its category goes with that purchase, how near its store "
              "is.")


def eval_metrics(report: dict) -> list[tuple[str, str, str | None]]:
    """(label, value, change against the random baseline) of the evaluation's headline."""
    k, rnd = report["k"], report["baselines"]["random"]
    return [(f"Hit rate@{k}", f"{report['hit_rate']:.2f}",
             f"{report['hit_rate'] - rnd['hit_rate']:+.2f} vs random"),
            (f"NDCG@{k}", f"{report['ndcg']:.3f}",
             f"{report['ndcg'] - rnd['ndcg']:+.3f} vs random"),
            ("Customers evaluated", str(report["customers"]), None)]


def profile_line(customer, purchases: int) -> str:
    return (f"**{customer.gender}** · lives near **{customer.home_city}** · {purchases} "
            f"purchase{'s' if purchases != 1 else ''}")


def rec_caption(rank: int, r: CustomerRecommendation) -> str:
    """"#3 · jeans · orange": rank, category and colour (the fused score and its parts are in
    the table below the cards)."""
    return f"#{rank} · {field_label(r.item, 'category')} · {field_label(r.item, 'color')}"


def history_caption(purchase, item) -> str:
    """"2025-03-01 · jeans · orange": a purchase's date, category and colour."""
    return f"{purchase.date} · {field_label(item, 'category')} · {field_label(item, 'color')}"
