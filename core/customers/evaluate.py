"""Leave-last-out evaluation of the fused score on the simulated purchase histories.

For every customer with at least two purchases, the last one is held out and the catalog
(items they wear and have not bought before) is ranked from their earlier purchases, with the
popularity as it was just before the held-out purchase. Reported: hit rate@k (the held-out
item is in the top k) and NDCG@k (1 / log2(rank + 2) when it is), for the fused score and
for baselines: random, raw popularity, visual similarity alone, and the fused score with each
part dropped in turn (ablation). Ties count against the scorer (the held-out item ranks after
every item scoring the same), so a constant score cannot look good.

Simulated purchases were generated from the same factors the score fuses, so on them this
measures whether the fusion recovers the simulated behaviour, not how it would do with real
customers; on an imported purchase history (:mod:`core.customers.importer`) it measures how
well the score predicts what those customers bought next (:func:`data_note` says which).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.customers.catalog import CatalogView
from core.customers.customers import Customer, Purchase
from core.customers.params import PARTS, FusionConfig
from core.customers.popularity import normalised
from core.customers.score import customer_parts, rank
from core.progress import Progress

NOTE = ("Purchases were simulated from the same factors the fused score combines (style, "
        "popularity and trendiness, store distance): these figures check that the fusion "
        "recovers the simulated behaviour; they are not a real-world A/B result.")
IMPORTED_NOTE = ("Evaluated on the imported purchases ({source}): each customer's last "
                 "purchase in the log is held out, so these figures measure how well the fused "
                 "score predicts what they bought next.")


def data_note(run: dict | None) -> dict:
    """Where the evaluated purchases come from (``data``: simulated or imported, ``source``:
    the imported file) and the note that goes with the figures."""
    if (run or {}).get("kind") == "import":
        source = (run.get("sources") or {}).get("purchases") or "a purchase log"
        return {"data": "imported", "source": source, "note": IMPORTED_NOTE.format(source=source)}
    return {"data": "simulated", "source": None, "note": NOTE}


@dataclass
class Case:
    customer: Customer
    refs: np.ndarray  # rows of the earlier purchases
    target: int  # row of the held-out purchase
    cutoff: str  # its time


def cases(catalog: CatalogView, customers: list[Customer], purchases: list[Purchase]
          ) -> tuple[list[Case], int]:
    """One case per customer with two or more purchases, and how many were skipped because
    the held-out item or every earlier one lacks a vector (is not in ``catalog``)."""
    history: dict[str, list[Purchase]] = {}
    for p in sorted(purchases, key=lambda p: (p.ts, p.purchase_id)):
        history.setdefault(p.customer_id, []).append(p)
    out, skipped = [], 0
    for c in customers:
        bought = history.get(c.customer_id, [])
        if len(bought) < 2:
            continue
        refs = catalog.rows_of([p.sku for p in bought[:-1]])
        if bought[-1].sku not in catalog.row or not len(refs):
            skipped += 1
            continue
        out.append(Case(c, refs, catalog.row[bought[-1].sku], bought[-1].ts))
    return out, skipped


def rank_of(scores: np.ndarray, target: int) -> int:
    """0-based rank of the target; ties are counted against it."""
    s = scores[target]
    return int((scores > s).sum() + (scores == s).sum() - 1)


def _snapshots(catalog: CatalogView, purchases: list[Purchase], todo: list[Case]
               ) -> Iterator[tuple[Case, np.ndarray]]:
    """Each case with the normalised popularity just before its held-out purchase: the final
    counts, minus the purchases at or after the cutoff (latest cases first, one pass)."""
    counts = catalog.popularity.astype(np.float64).copy()
    timeline = sorted(((p.ts, catalog.row[p.sku]) for p in purchases if p.sku in catalog.row),
                      reverse=True)
    i = 0
    for case in sorted(todo, key=lambda c: c.cutoff, reverse=True):
        while i < len(timeline) and timeline[i][0] >= case.cutoff:
            counts[timeline[i][1]] -= 1
            i += 1
        yield case, normalised(np.maximum(counts, 0.0))


def variants(cfg: FusionConfig) -> dict[str, FusionConfig]:
    """The fused score, visual similarity alone, and the fused score without each part."""
    return {"fused": cfg, "visual": cfg.only("visual"),
            **{f"no_{p}": cfg.without(p) for p in PARTS}}


def evaluate(catalog: CatalogView, vectors: np.ndarray, customers: list[Customer],
             purchases: list[Purchase], cfg: FusionConfig, *, k: int = 10, seed: int = 0,
             progress: Progress | None = None) -> dict:
    """The leave-last-out report (see the module docstring)."""
    todo, skipped = cases(catalog, customers, purchases)
    rng = np.random.default_rng(seed)
    ranks: dict[str, list[int]] = {name: [] for name in ("random", "popularity",
                                                         *variants(cfg))}
    for done, (case, pop) in enumerate(_snapshots(catalog, purchases, todo), 1):
        allowed = catalog.wearable_by(case.customer.gender)
        allowed[case.refs] = False
        parts = customer_parts(catalog, vectors, case.customer, case.refs, pop, cfg)
        scored = {name: rank(parts, v, allowed).scores for name, v in variants(cfg).items()}
        scored["random"] = np.where(allowed, rng.random(len(catalog)), -np.inf)
        scored["popularity"] = np.where(allowed, pop, -np.inf)
        for name, scores in scored.items():
            ranks[name].append(rank_of(scores, case.target))
        if progress:
            progress(done, len(todo))
    metrics = {name: _metrics(r, k) for name, r in ranks.items()}
    return {"model": "fused", **metrics.pop("fused"), "k": k, "customers": len(todo),
            "skipped": skipped, "weights": cfg.weights, "baselines": metrics, "note": NOTE}


def _metrics(ranks: list[int], k: int) -> dict[str, float]:
    r = np.asarray(ranks, dtype=np.float64)
    if not len(r):
        return {"hit_rate": 0.0, "ndcg": 0.0}
    hit = r < k
    return {"hit_rate": round(float(hit.mean()), 4),
            "ndcg": round(float(np.where(hit, 1.0 / np.log2(r + 2), 0.0).mean()), 4)}
