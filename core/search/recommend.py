"""Attribute-based recommenders: by attributes, seasonal picks, colour coordination
for a base item, and an ensemble that merges similarity, attribute and seasonal lists.

Every recommendation carries a short reason in words, so the page can say *why* an item is
there. Candidates come from MongoDB through the repository's safe filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.search.params import SearchParams
from core.storage import Item
from core.taxonomy import CATEGORIES, COLORS, SEASON_COLORS, SEASONS, colour_relation
from core.taxonomy import hue_distance as _hue_distance

POOL = 200  # candidates read per query before scoring
ATTR_WEIGHTS = {"category": 1.5, "color": 1.0, "pattern": 0.7, "season": 0.6, "sleeve": 0.3,
                "length": 0.3, "fit": 0.2}
RELATIONS = ("complementary", "analogous", "neutral")
RELATION_WEIGHT = {"complementary": 1.0, "analogous": 0.9, "neutral": 0.8}
# Families that are worn together (a dress goes with outerwear and shoes, not with a skirt).
WEARS_WITH = {
    "top": ("bottom", "outer", "shoes", "bag", "hat"),
    "outer": ("top", "bottom", "full", "shoes", "bag", "hat"),
    "full": ("outer", "shoes", "bag", "hat"),
    "bottom": ("top", "outer", "shoes", "bag", "hat"),
    "shoes": ("top", "outer", "full", "bottom", "bag", "hat"),
    "bag": ("top", "outer", "full", "bottom", "shoes", "hat"),
    "hat": ("top", "outer", "full", "bottom", "shoes", "bag"),
}
DEFAULT_ENSEMBLE_WEIGHTS = SearchParams().weights()
# Within a group of equally good colour or season matches, items that look more like the base
# rank first: its visual similarity (cosine, 0..1) weighs as much as a shared season.
VISUAL_WEIGHT = 0.1
Similarity = Callable[[list[str]], dict[str, float]]


@dataclass
class Recommendation:
    item: Item
    score: float
    reason: str
    sources: dict[str, float] = field(default_factory=dict)  # ensemble: weighted parts

    def to_json(self) -> dict[str, Any]:
        return {"id": self.item.sku, "score": round(float(self.score), 4),
                "category": self.item.category, "attrs": dict(self.item.attrs),
                "image": self.item.image_path, "reason": self.reason,
                **({"sources": self.sources} if self.sources else {})}


def _popularity_norm(items: Sequence[Item]) -> dict[str, float]:
    top = max((it.popularity or 0.0 for it in items), default=0.0)
    return {it.sku: (it.popularity or 0.0) / top if top > 0 else 0.0 for it in items}


def _attr(item: Item, key: str) -> str | None:
    """An attribute's value when it is text (anything else counts as unknown)."""
    value = item.attrs.get(key) if isinstance(item.attrs, dict) else None
    return value if isinstance(value, str) else None


def _value_of(item: Item, key: str) -> Any:
    return item.category if key == "category" else _attr(item, key)


def recommend_by_attributes(repo, *, k: int = 10, exclude: Iterable[str] = (),
                            filters: dict[str, Any] | None = None, **wanted: Any
                            ) -> list[Recommendation]:
    """Items sharing the wanted attributes (category, color, pattern, season, ...).

    Full matches rank first, then partial ones by the weight of what they share; popularity
    breaks ties.
    """
    wanted = {key: v for key, v in wanted.items() if v not in (None, "", [])}
    unknown = set(wanted) - set(ATTR_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown attribute(s) {sorted(unknown)}; use {sorted(ATTR_WEIGHTS)}")
    if not wanted:
        return []
    banned = set(map(str, exclude))
    base = dict(filters or {})
    pool: dict[str, Item] = {}
    queries = [wanted] + ([{key: v} for key, v in wanted.items()] if len(wanted) > 1 else [])
    for q in queries:
        spec = {**base, **q}
        for it in repo.find_items(spec, limit=POOL + len(banned), sort="popularity",
                                  descending=True):
            if it.sku not in banned:
                pool.setdefault(it.sku, it)
    total = sum(ATTR_WEIGHTS[key] for key in wanted)
    pop = _popularity_norm(list(pool.values()))
    recs = []
    for it in pool.values():
        same = [key for key, v in wanted.items() if _value_of(it, key) == v]
        differ = [key for key in wanted if key not in same]
        score = sum(ATTR_WEIGHTS[key] for key in same) / total + 0.05 * pop[it.sku]
        reason = "matches " + ", ".join(f"{key} {wanted[key]}" for key in same)
        if differ:
            reason += "; differs on " + ", ".join(
                f"{key} ({_value_of(it, key) or 'unknown'})" for key in differ)
        recs.append(Recommendation(it, score, reason))
    recs.sort(key=lambda r: (-r.score, r.item.sku))
    return recs[:k]


def season_of(date: dt.date | None = None, *, southern: bool = False) -> str:
    """The meteorological season of a date (northern hemisphere unless ``southern``)."""
    month = (date or dt.date.today()).month
    idx = {12: 3, 1: 3, 2: 3, 3: 0, 4: 0, 5: 0, 6: 1, 7: 1, 8: 1}.get(month, 2)
    return SEASONS[(idx + 2) % 4] if southern else SEASONS[idx]


def _visual(recs: list[Recommendation], similarity: Similarity | None) -> None:
    """Add the visual similarity to the base as a secondary score (and say it in the reason)."""
    if similarity is None:
        return
    sims = similarity([r.item.sku for r in recs])
    for r in recs:
        if r.item.sku in sims:
            sim = max(0.0, min(1.0, sims[r.item.sku]))
            r.score += VISUAL_WEIGHT * sim
            r.sources["visual"] = round(sim, 4)
            r.reason += f"; looks {sim:.0%} alike"


def seasonal_recommendations(repo, season: str, *, k: int = 12, exclude: Iterable[str] = (),
                             filters: dict[str, Any] | None = None,
                             similarity: Similarity | None = None) -> list[Recommendation]:
    """Popular pieces for a season, favouring its colours and spread over categories;
    ``similarity`` (sku -> likeness to a base item) orders near-equal ones."""
    if season not in SEASONS:
        raise ValueError(f"unknown season {season!r}; use one of {', '.join(SEASONS)}")
    banned = set(map(str, exclude))
    items = [it for it in repo.find_items({**(filters or {}), "season": season}, limit=POOL,
                                          sort="popularity", descending=True)
             if it.sku not in banned]
    pop = _popularity_norm(items)
    palette = SEASON_COLORS.get(season, ())
    recs = []
    for it in items:
        colour = _attr(it, "color")
        in_palette = colour in palette
        score = 0.7 + (0.2 if in_palette else 0.0) + 0.1 * pop[it.sku]
        reason = f"{season} piece" + (f"; {colour} is a {season} colour" if in_palette else "")
        recs.append(Recommendation(it, score, reason))
    _visual(recs, similarity)
    recs.sort(key=lambda r: (-r.score, r.item.sku))
    return _spread_categories(recs)[:k]


def _spread_categories(recs: list[Recommendation]) -> list[Recommendation]:
    """Round-robin over categories (in score order) so one category cannot fill the list."""
    by_cat: dict[str, list[Recommendation]] = {}
    for r in recs:
        by_cat.setdefault(r.item.category, []).append(r)
    out: list[Recommendation] = []
    while any(by_cat.values()):
        for cat in list(by_cat):
            if by_cat[cat]:
                out.append(by_cat[cat].pop(0))
    return out


def explain_pair(base: str, other: str) -> str:
    """Why two named colours go together, in words."""
    relation = colour_relation(base, other)
    if relation == "complementary":
        return (f"{other} is complementary to {base}: opposite on the colour wheel "
                f"({_hue_distance(base, other):.0f}° apart)")
    if relation == "analogous":
        return (f"{other} is analogous to {base}: a neighbour on the colour wheel "
                f"({_hue_distance(base, other):.0f}° apart)")
    if relation == "neutral":
        neutral = other if COLORS[other].neutral else base
        return f"{neutral} is a neutral, so {other} pairs calmly with {base}"
    if relation == "same":
        return f"same colour as the base ({base}): a tonal look"
    return f"{other} and {base} clash ({_hue_distance(base, other):.0f}° apart)"


def matching_colours(base: str) -> dict[str, list[str]]:
    """Catalog colours that coordinate with ``base``, grouped by relation."""
    if base not in COLORS:
        return {rel: [] for rel in RELATIONS}
    groups: dict[str, list[str]] = {rel: [] for rel in RELATIONS}
    for other in COLORS:
        rel = colour_relation(base, other)
        if rel in groups:
            groups[rel].append(other)
    return groups


def relation_note(base: str | None, rel: str) -> str:
    """Why a colour relation of ``base`` has nothing to suggest: the colour is unknown, it has
    no colours of that relation (black, olive and other neutrals have no complementary one),
    or the catalog has no item of them to wear with it."""
    if base not in COLORS:
        return "Its colour is unknown, so there are no colours to pair it with."
    colours = matching_colours(base)[rel]
    if not colours:
        return (f"{base.capitalize()} is a neutral shade: no colour is {rel} to it; the "
                "colours below all go with it.") if rel != "neutral" else \
            f"No neutral colour pairs with {base}."
    return f"No item in {', '.join(colours)} to wear with it in the catalog."


def _partner_categories(category: str) -> list[str] | None:
    cat = CATEGORIES.get(category)
    if cat is None:
        return None
    families = WEARS_WITH.get(cat.family, ())
    return [c.name for c in CATEGORIES.values() if c.family in families]


def coordinate_colours(repo, base: Item, *, k: int = 12, filters: dict[str, Any] | None = None,
                       similarity: Similarity | None = None) -> dict[str, list[Recommendation]]:
    """Items to wear with ``base`` whose colour is complementary, analogous or neutral to it;
    ``similarity`` (sku -> likeness to ``base``) orders the items of one relation."""
    colour = _attr(base, "color")
    groups = matching_colours(colour) if colour else {rel: [] for rel in RELATIONS}
    partners = _partner_categories(base.category)
    out: dict[str, list[Recommendation]] = {}
    for rel in RELATIONS:
        if not groups[rel]:
            out[rel] = []
            continue
        spec = {**(filters or {}), "color": groups[rel]}
        if partners is not None and "category" not in spec:
            spec["category"] = partners
        items = [it for it in repo.find_items(spec, limit=POOL, sort="popularity",
                                              descending=True)
                 if it.sku != base.sku and it.category != base.category]
        pop = _popularity_norm(items)
        recs = []
        for it in items:
            same_season = bool(_attr(base, "season")) and (
                _attr(it, "season") == _attr(base, "season"))
            score = RELATION_WEIGHT[rel] + (0.1 if same_season else 0.0) + 0.1 * pop[it.sku]
            reason = explain_pair(colour, it.attrs["color"])
            if same_season:
                reason += f"; both for {it.attrs['season']}"
            recs.append(Recommendation(it, score, reason))
        _visual(recs, similarity)
        recs.sort(key=lambda r: (-r.score, r.item.sku))
        out[rel] = _spread_categories(recs)[:k]
    return out


def _normalised(scores: dict[str, float]) -> dict[str, float]:
    """Min-max scaled to 0..1 within one list (ties all become 1)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    return {s: (v - lo) / (hi - lo) if hi > lo else 1.0 for s, v in scores.items()}


def ensemble(lists: dict[str, Sequence[tuple[Item, float]]],
             weights: dict[str, float] | None = None, *, k: int = 10,
             exclude: Iterable[str] = (), boosts: Iterable[str] = ()) -> list[Recommendation]:
    """Weighted combination of ranked lists {source: [(item, score)]} (scores min-max scaled).
    ``boosts``: sources that only add to items another list found (a season's popular pieces
    raise the in-season ones among an item's look-alikes, never bring in unrelated ones)."""
    weights = dict(weights or DEFAULT_ENSEMBLE_WEIGHTS)
    unknown = set(lists) - set(weights)
    if unknown:
        raise ValueError(f"no weight for list(s) {sorted(unknown)}")
    banned = set(map(str, exclude))
    items: dict[str, Item] = {}
    parts: dict[str, dict[str, float]] = {}
    for source, ranked in lists.items():
        norm = _normalised({it.sku: float(s) for it, s in ranked if it.sku not in banned})
        for it, _ in ranked:
            if it.sku in norm:
                items.setdefault(it.sku, it)
                parts.setdefault(it.sku, {})[source] = round(weights[source] * norm[it.sku], 4)
    boosts = set(boosts)
    recs = []
    for sku, contrib in parts.items():
        if not set(contrib) - boosts:
            continue
        total = sum(contrib.values())
        reason = " + ".join(f"{src} {v:.2f}" for src, v in sorted(contrib.items(),
                                                                   key=lambda kv: -kv[1]))
        recs.append(Recommendation(items[sku], total, reason, sources=contrib))
    recs.sort(key=lambda r: (-r.score, r.item.sku))
    return recs[:k]


def ensemble_for_item(repo, base: Item, similar: Sequence[tuple[Item, float]], *,
                      weights: dict[str, float] | None = None, k: int = 10,
                      filters: dict[str, Any] | None = None) -> list[Recommendation]:
    """Ensemble picks for a base item: its visual neighbours and attribute matches, the
    season's popular pieces raising those in season."""
    attrs = {key: _attr(base, key) for key in ("color", "pattern", "season")}
    by_attr = recommend_by_attributes(repo, category=base.category, **attrs, k=POOL,
                                      exclude=[base.sku], filters=filters)
    season = _attr(base, "season")
    seasonal = (seasonal_recommendations(repo, season, k=POOL, exclude=[base.sku],
                                         filters=filters) if season in SEASONS else [])
    lists = {"similarity": list(similar),
             "attributes": [(r.item, r.score) for r in by_attr],
             "seasonal": [(r.item, r.score) for r in seasonal]}
    return ensemble(lists, weights, k=k, exclude=[base.sku], boosts=("seasonal",))
