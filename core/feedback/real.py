"""Real shopper captions (FashionIQ caption files, no images) as a held-out phrasing test.

A fixed fifth of the caption pairs (by a hash of candidate and target ids) is held out; the
rest is the development part (vocabulary, rule weight). For each caption that names a colour
(pattern, sleeve length), the reference is a catalog item of the matching kind whose colour
(pattern, sleeves) is another than the one asked for, and the gallery is every item of its
garment family, as on the Refine page. Reported per attribute: the fraction of the top-10
that has the requested value, for the model with the rule ranking (the product: its query and
its rules), the model alone and the reference alone.

Captions that only negate a colour, pattern or sleeve length ("has no red in it", "is less
floral") are measured twice, on their own draw of references (the rows above are unchanged
by them): with a reference that has the negated value, as the captions were written (the
top 10 free of it), and with one that lacks it, as when a shopper says "is not red" of a
mint bag (the top 10 keeping the reference's own value). ``model_query_rules`` is the
combiner's query on the full text with the rules, the ranking before negation-only requests
kept the reference as the query.

Captions that ask for a length or a fit ("is shorter", "knee length", "more fitted") are
measured on their own draw of references too: one whose length (fit) the request can be
resolved against within its category (a "shorter" mini dress cannot be), then the fraction of
the top-10 with a requested value, named and compared apart.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.feedback.data import FeedbackData
from core.feedback.evaluate import compose, resolve_for, rule_queries
from core.feedback.fashioniq import CATEGORIES, read_caption_file
from core.feedback.metrics import attribute_fraction, attribute_hits, hit_rate, top_rows
from core.feedback.model import Combiner
from core.feedback.parse import ParsedFeedback, parse_feedback
from core.feedback.rules import ORDERED, RULE_WEIGHT, Constraints, penalty_matrix
from core.taxonomy import NA

HELD_OUT_MOD = 5  # one pair in five is held out
PARTS = ("heldout", "development")
REAL_ATTRS = ("color", "pattern", "sleeve")
REFERENCE_TRIES = 30  # references drawn for a length / fit caption before it is skipped
K = 10
METHODS = ("model_rules", "model", "reference_only")
NEGATION_METHODS = (*METHODS, "model_query_rules")
NEGATION_SETUPS = ("has", "lacks")  # the reference has (lacks) the negated value
# FashionIQ category -> catalog categories to draw references from (and their family).
REFERENCE_KINDS = {"dress": (("dress",), "full"), "shirt": (("shirt",), "top"),
                   "toptee": (("tee", "tank", "top"), "top")}


def is_held_out(candidate: str, target: str | None) -> bool:
    digest = hashlib.sha1(f"{candidate}>{target or ''}".encode()).hexdigest()
    return int(digest[:8], 16) % HELD_OUT_MOD == 0


def read_real_captions(folder: Path, part: str = "heldout") -> list[tuple[str, str]]:
    """(FashionIQ category, caption) of the held-out ("heldout") or remaining part
    ("development"; "train" is accepted as its old name)."""
    folder = Path(folder)
    out = []
    for cat in CATEGORIES:
        for path in sorted(folder.glob(f"cap.{cat}.*.json")):
            split = path.name.split(".")[2]
            for e in read_caption_file(path, category=cat, split=split):
                if is_held_out(e.candidate, e.target) == (part == "heldout"):
                    out.extend((cat, c) for c in e.captions)
    return out


def _reference_pool(data: FeedbackData, rows: np.ndarray, fiq_category: str) -> np.ndarray:
    cats, family = REFERENCE_KINDS[fiq_category]
    for test in (lambda f: f["category"] in cats, lambda f: f["family"] == family):
        pool = np.array([r for r in rows if test(data.info[r])], dtype=np.int64)
        if len(pool):
            return pool
    return rows


def pick_reference(data: FeedbackData, pool: np.ndarray, wanted: dict[str, frozenset[str]],
                   rng: random.Random) -> int:
    """A pool item whose colour (pattern, sleeves) is not the one asked for; the colour
    condition is kept longest when no item differs in everything."""
    tiers = (list(wanted), ["color"] if "color" in wanted else [], [])
    for attrs in tiers:
        ok = [int(r) for r in pool if all(data.attr(r, a) not in wanted[a] for a in attrs)]
        if ok:
            return rng.choice(ok)
    return int(rng.choice(list(pool)))


Query = tuple[str, int, Constraints, ParsedFeedback]


def _queries(data: FeedbackData, captions: list[tuple[str, str]], rows: np.ndarray,
             rng: random.Random) -> list[Query]:
    """(caption, reference row, resolved request, parse) of the captions that ask for an
    attribute."""
    out = []
    pools: dict[str, np.ndarray] = {}
    for cat, cap in captions:
        parsed = parse_feedback(cap)
        wanted = {a: v for a in REAL_ATTRS if (v := parsed.requested(a))}
        if not wanted and not parsed.first("color_rel") and not parsed.first("sleeve_rel"):
            continue
        if cat not in pools:
            pools[cat] = _reference_pool(data, rows, cat)
        ref = pick_reference(data, pools[cat], wanted, rng)
        c = resolve_for(parsed, data.info[ref])
        if c:
            out.append((cap, ref, c, parsed))
    return out


def only_negated(parsed: ParsedFeedback) -> dict[str, frozenset[str]]:
    """The colour / pattern / sleeve values a caption negates when that is all it asks for
    of them (empty otherwise)."""
    if any(parsed.requested(a) for a in REAL_ATTRS) or parsed.first("color_rel") \
            or parsed.first("sleeve_rel"):
        return {}
    return {a: v for a in REAL_ATTRS if (v := parsed.negated(a))}


def _negation_queries(data: FeedbackData, captions: list[tuple[str, str]], rows: np.ndarray,
                      rng: random.Random, setup: str) -> list[Query]:
    """Captions that only negate, each with a reference that has (``setup`` "has") or lacks
    ("lacks": and whose value is known) every value it negates."""
    out, pools = [], {}
    for cat, cap in captions:
        parsed = parse_feedback(cap)
        negated = only_negated(parsed)
        if not negated:
            continue
        if cat not in pools:
            pools[cat] = _reference_pool(data, rows, cat)
        ok = [int(r) for r in pools[cat] if all(
            (data.attr(r, a) in v) if setup == "has" else
            (data.attr(r, a) not in v | {None, NA}) for a, v in negated.items())]
        if ok:
            ref = rng.choice(ok)
            c = resolve_for(parsed, data.info[ref])
            if c.only_avoids:
                out.append((cap, ref, c, parsed))
    return out


def _ordered_queries(data: FeedbackData, captions: list[tuple[str, str]], rows: np.ndarray,
                     rng: random.Random) -> list[Query]:
    """Captions that ask for a length or a fit, each with a reference whose own value the
    request resolves against and differs from (skipped when none is found)."""
    out, pools = [], {}
    for cat, cap in captions:
        parsed = parse_feedback(cap)
        if not any(parsed.first(k) for a in ORDERED for k in (a, f"{a}_rel")):
            continue
        if cat not in pools:
            pools[cat] = [int(r) for r in _reference_pool(data, rows, cat)]
        for ref in rng.sample(pools[cat], min(REFERENCE_TRIES, len(pools[cat]))):
            c = resolve_for(parsed, data.info[ref])
            asked = [a for a in ORDERED if a in c.want]
            if asked and all(data.attr(ref, a) not in c.want[a] for a in asked):
                out.append((cap, ref, c, parsed))
                break
    return out


def _ordered_eval(data: FeedbackData, encode: Callable[[list[str]], np.ndarray],
                  model: Combiner, captions: list[tuple[str, str]], seed: int,
                  weight: float) -> dict:
    """The length and fit rows: named ("knee length") and compared ("shorter") apart."""
    queries = _ordered_queries(data, captions, data.rows(), random.Random(seed + 2))
    if not queries:
        return {}
    refs, _, tops = _tops_of(data, encode, model, queries, weight)
    cs = [c for _, _, c, _ in queries]
    out = {"ordered_same_category": _same_category(data, tops, refs, cs)}
    for attr in ORDERED:
        out[attr] = _fractions(data, tops, refs, cs, attr, named=True)
        out[f"{attr}_relative"] = _fractions(data, tops, refs, cs, attr, named=False)
    return out


def _tops(data: FeedbackData, q: np.ndarray, refs: np.ndarray, cs: list[Constraints],
          weight: float | None) -> np.ndarray:
    """Top-K rows per query within the reference's family (rules applied when ``weight``)."""
    out = np.zeros((len(q), K), dtype=np.int64)
    fams = np.array([data.info[r]["family"] for r in refs])
    for fam in sorted(set(fams)):
        sel = np.flatnonzero(fams == fam)
        gallery = np.array([r for r, f in enumerate(data.info) if f["family"] == fam])
        adjust = None
        if weight is not None:
            attrs = [data.ranked_attrs(r) for r in gallery]
            adjust = weight * penalty_matrix([cs[i] for i in sel], attrs)
        top = top_rows(q[sel], data.vectors, gallery, K, exclude=refs[sel], adjust=adjust)
        out[sel, :top.shape[1]] = top
    return out


def _ceiling(data: FeedbackData, refs: np.ndarray, attr: str,
             wanted: list[frozenset[str] | None]) -> float | None:
    """The best fraction any ranking could reach: the family may hold fewer than ten items
    with the requested value."""
    counts: dict[tuple[str, str | None], int] = {}
    for r, f in enumerate(data.info):
        key = (f["family"], data.attr(r, attr))
        counts[key] = counts.get(key, 0) + 1
    out = [min(K, sum(counts.get((data.info[r]["family"], v), 0) for v in w)
               - (data.attr(r, attr) in w)) / K
           for r, w in zip(refs, wanted, strict=True) if w]
    return round(float(np.mean(out)), 4) if out else None


def _fractions(data: FeedbackData, tops: dict[str, np.ndarray], refs: np.ndarray,
               cs: list[Constraints], attr: str, named: bool) -> dict:
    values = [data.attr(r, attr) for r in range(len(data.skus))]
    wanted = [c.want.get(attr) if (attr in c.explicit) == named else None for c in cs]
    entry: dict = {"n": int(sum(w is not None for w in wanted))}
    for m, top in tops.items():
        entry[m] = hit_rate(attribute_fraction(top, values, wanted))
    entry["hit_at_10"] = hit_rate(attribute_hits(tops["model_rules"], values, wanted))
    entry["ceiling"] = _ceiling(data, refs, attr, wanted)
    return entry


def _same_category(data: FeedbackData, tops: dict[str, np.ndarray], refs: np.ndarray,
                   cs: list[Constraints]) -> dict:
    """Fraction of the top-10 of the reference's own category, for requests naming no
    category (a "shorter" dress should give dresses before rompers)."""
    asked = [i for i, c in enumerate(cs) if "category" not in c.want]
    entry: dict = {"n": len(asked)}
    for m, top in tops.items():
        same = [np.mean([data.info[r]["category"] == data.info[refs[i]]["category"]
                         for r in top[i]]) for i in asked]
        entry[m] = round(float(np.mean(same)), 4) if same else None
    return entry


def _kept_colour(data: FeedbackData, tops: dict[str, np.ndarray], refs: np.ndarray,
                 queries: list[Query]) -> dict:
    """Fraction of the top-10 in the reference's own colour, for captions that say nothing
    of colour ("with longer sleeves" of a burgundy tee should stay burgundy)."""
    asked = [i for i, (_, ref, _, p) in enumerate(queries)
             if not any(m.attr == "color" for m in p.mentions)
             and data.attr(ref, "color") not in (None, NA)]
    entry: dict = {"n": len(asked)}
    for m, top in tops.items():
        kept = [np.mean([data.attr(r, "color") == data.attr(refs[i], "color")
                         for r in top[i]]) for i in asked]
        entry[m] = round(float(np.mean(kept)), 4) if kept else None
    return entry


def _avoided(data: FeedbackData, tops: dict[str, np.ndarray], cs: list[Constraints]) -> dict:
    """Fraction of the top-10 free of every value the caption negates."""
    asked = [i for i, c in enumerate(cs) if c.avoid]
    entry: dict = {"n": len(asked)}
    for m, top in tops.items():
        clean = [np.mean([not any(data.attr(r, a) in v for a, v in cs[i].avoid.items())
                          for r in top[i]]) for i in asked]
        entry[m] = round(float(np.mean(clean)), 4) if clean else None
    return entry


def _kept(data: FeedbackData, tops: dict[str, np.ndarray], refs: np.ndarray,
          cs: list[Constraints]) -> dict:
    """Fraction of the top-10 with the reference's own value of every negated attribute
    (with the best possible: the share the reference's family can give)."""
    entry: dict = {"n": len(cs)}
    for m, top in tops.items():
        kept = [np.mean([all(data.attr(r, a) == data.attr(ref, a) for a in c.avoid)
                         for r in row]) for row, ref, c in zip(top, refs, cs, strict=True)]
        entry[m] = round(float(np.mean(kept)), 4) if kept else None
    best = []
    for ref, c in zip(refs, cs, strict=True):
        fam = data.info[ref]["family"]
        same = sum(data.info[r]["family"] == fam and r != ref
                   and all(data.attr(r, a) == data.attr(ref, a) for a in c.avoid)
                   for r in range(len(data.skus)))
        best.append(min(K, same) / K)
    entry["ceiling"] = round(float(np.mean(best)), 4) if best else None
    return entry


def _negation_eval(data: FeedbackData, encode: Callable[[list[str]], np.ndarray],
                   model: Combiner, captions: list[tuple[str, str]], seed: int,
                   weight: float) -> dict:
    """The "only negates" rows: free of the value (reference with it), keeping the
    reference's value (reference without it)."""
    out = {}
    for setup, key in zip(NEGATION_SETUPS, ("avoided_only", "avoided_kept"), strict=True):
        queries = _negation_queries(data, captions, data.rows(), random.Random(seed + 1), setup)
        if not queries:
            continue
        refs, q, tops = _tops_of(data, encode, model, queries, weight, combiner_rules=True)
        cs = [c for _, _, c, _ in queries]
        out[key] = _avoided(data, tops, cs) if setup == "has" else _kept(data, tops, refs, cs)
    return out


def _tops_of(data: FeedbackData, encode: Callable[[list[str]], np.ndarray], model: Combiner,
             queries: list[Query], weight: float, combiner_rules: bool = False
             ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Reference rows, the combiner's queries and the top-10 rows of each method."""
    refs = np.array([r for _, r, _, _ in queries], dtype=np.int64)
    cs = [c for _, _, c, _ in queries]
    q = compose("model", model, None, data.vectors[refs], encode([t for t, _, _, _ in queries]))
    product = rule_queries(model, encode, data.vectors[refs], q,
                           [p for _, _, _, p in queries], cs)
    tops = {"model_rules": _tops(data, product, refs, cs, weight),
            "model": _tops(data, q, refs, cs, None),
            "reference_only": _tops(data, data.vectors[refs], refs, cs, None)}
    if combiner_rules:
        tops["model_query_rules"] = _tops(data, q, refs, cs, weight)
    return refs, q, tops


def real_caption_eval(data: FeedbackData, encode: Callable[[list[str]], np.ndarray],
                      model: Combiner, folder: Path, *, seed: int = 0, limit: int | None = None,
                      part: str = "heldout", weight: float = RULE_WEIGHT) -> dict:
    """Top-10 attribute fractions for real captions, per attribute and method."""
    captions = read_real_captions(folder, part)
    rng = random.Random(seed)
    queries = _queries(data, captions, data.rows(), rng)
    if limit is not None and len(queries) > limit:
        queries = rng.sample(queries, limit)
    out: dict = {"part": part, "n_captions": len(captions), "n_asked": len(queries),
                 "split": f"1 in {HELD_OUT_MOD} pairs by id hash",
                 "gallery": "every catalog item of the reference's family",
                 "rule_weight": weight, "methods": list(METHODS)}
    if len(data.skus) < 2:
        return out
    if queries:
        refs, _, tops = _tops_of(data, encode, model, queries, weight)
        cs = [c for _, _, c, _ in queries]
        for attr in REAL_ATTRS:
            out[attr] = _fractions(data, tops, refs, cs, attr, named=True)
        out["color_shade"] = _fractions(data, tops, refs, cs, "color", named=False)
        out["sleeve_relative"] = _fractions(data, tops, refs, cs, "sleeve", named=False)
        out["avoided"] = _avoided(data, tops, cs)
        out["same_category"] = _same_category(data, tops, refs, cs)
        out["kept_colour"] = _kept_colour(data, tops, refs, queries)
    out.update(_negation_eval(data, encode, model, captions, seed, weight))
    out.update(_ordered_eval(data, encode, model, captions, seed, weight))
    return out
