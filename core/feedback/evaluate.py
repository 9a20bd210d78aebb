"""`eval feedback`: recall of the composed query on held-out pairs, against three baselines.

Held-out = pairs whose items are all in the evaluation split (never seen in training) with
captions from the held-out templates. The gallery is that split's items; the reference itself
is never counted as a result. Baselines: the reference image alone, the text alone (a linear
text->image map trained with the same loss) and their untrained sum. "With the rule ranking"
is the product's ranking: its query (:func:`rule_queries`) and the request rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
import torch

from core.feedback.data import FeedbackData
from core.feedback.metrics import (
    attribute_hits,
    hit_rate,
    recall_summary,
    target_ranks,
    top_rows,
)
from core.feedback.model import Combiner, TextProjection
from core.feedback.pairs import PairRecord
from core.feedback.parse import ParsedFeedback, parse_feedback
from core.feedback.rules import RULE_WEIGHT, Constraints, model_text, penalty_matrix, resolve

METHODS = ("model", "image_only", "text_only", "sum")
HIT_ATTRS = ("color", "pattern")
K_HIT = 10


def compose(method: str, model: Combiner, baseline: TextProjection | None, img: np.ndarray,
            txt: np.ndarray) -> np.ndarray:
    """Query vectors of one method for reference vectors ``img`` and caption vectors ``txt``."""
    i, t = torch.from_numpy(np.ascontiguousarray(img)), torch.from_numpy(np.ascontiguousarray(txt))
    with torch.inference_mode():
        if method == "model":
            q = model(i, t)
        elif method == "image_only":
            q = i
        elif baseline is None:
            raise ValueError(f"baseline {method!r} needs the text-only projection")
        elif method == "text_only":
            q = baseline(None, t)
        elif method == "sum":
            q = torch.nn.functional.normalize(i + baseline(None, t), dim=1)
        else:
            raise ValueError(f"unknown method {method!r}")
    return q.numpy().astype(np.float32)


def resolve_for(parsed: ParsedFeedback, info: dict) -> Constraints:
    """The request resolved against a reference row's attributes, category and family."""
    return resolve(parsed, info["attrs"], category=info.get("category"),
                   family=info.get("family"))


def rule_queries(model: Combiner, encode: Callable[[list[str]], np.ndarray], img: np.ndarray,
                 q: np.ndarray, parsed: Sequence[ParsedFeedback],
                 rules: Sequence[Constraints]) -> np.ndarray:
    """The product's queries (``Refiner.compose``): the model's query ``q`` where it reads the
    text as typed, the model on the words left to it, or the reference itself when none are
    (:func:`core.feedback.rules.model_text`)."""
    out = np.array(q, dtype=np.float32, copy=True)
    words = [model_text(p, c) for p, c in zip(parsed, rules, strict=True)]
    plain = [i for i, w in enumerate(words) if w is None]
    if plain:
        ref = np.asarray(img[plain], dtype=np.float32)
        out[plain] = ref / np.maximum(np.linalg.norm(ref, axis=1, keepdims=True), 1e-12)
    other = [i for i, w in enumerate(words) if w is not None and w != parsed[i].text]
    if other:
        out[other] = compose("model", model, None, img[other], encode([words[i] for i in other]))
    return out


def queries_of(pairs: Sequence[PairRecord], data: FeedbackData
               ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(reference rows, target rows, captions, families): one query per pair caption."""
    refs, tgts, caps, fams = [], [], [], []
    for p in pairs:
        for c in p.captions:
            refs.append(data.row[p.reference])
            tgts.append(data.row[p.target])
            caps.append(c)
            fams.append(p.family)
    return np.array(refs, np.int64), np.array(tgts, np.int64), caps, fams


def wanted_values(captions: Sequence[str], attr: str) -> list[frozenset[str] | None]:
    """The first requested value set of ``attr`` in each caption (None when not named)."""
    return [parse_feedback(c).requested(attr) for c in captions]


def _adjust(data: FeedbackData, rules: list | None, sel: np.ndarray, gallery: np.ndarray,
            weight: float) -> np.ndarray | None:
    if rules is None:
        return None
    attrs = [data.ranked_attrs(r) for r in gallery]
    return weight * penalty_matrix([rules[i] for i in np.flatnonzero(sel)], attrs)


def _ranks(data: FeedbackData, q: np.ndarray, refs: np.ndarray, tgts: np.ndarray,
           fams: list[str], split: str, by_family: bool, rules: list | None = None,
           weight: float = RULE_WEIGHT) -> np.ndarray:
    if not by_family:
        gallery = data.rows(split)
        adjust = _adjust(data, rules, np.ones(len(q), bool), gallery, weight)
        return target_ranks(q, data.vectors, tgts, gallery, exclude=refs, adjust=adjust)
    ranks = np.zeros(len(q), dtype=np.int64)
    for fam in set(fams):
        sel = np.array([f == fam for f in fams])
        gallery = np.array([r for r in data.rows(split) if data.info[r]["family"] == fam])
        ranks[sel] = target_ranks(q[sel], data.vectors, tgts[sel], gallery, exclude=refs[sel],
                                  adjust=_adjust(data, rules, sel, gallery, weight))
    return ranks


def _with_rules(data: FeedbackData, q: np.ndarray, refs: np.ndarray, tgts: np.ndarray,
                caps: list[str], fams: list[str], split: str, by_family: bool,
                wanted: dict[str, list[frozenset[str] | None]], model: Combiner,
                encode: Callable[[list[str]], np.ndarray]) -> dict:
    """Recall and attribute presence of the product's queries ranked by the request rules."""
    parsed = [parse_feedback(c) for c in caps]
    rules = [resolve_for(p, data.info[r]) for p, r in zip(parsed, refs, strict=True)]
    q = rule_queries(model, encode, data.vectors[refs], q, parsed, rules)
    out = recall_summary(_ranks(data, q, refs, tgts, fams, split, by_family, rules))
    gallery = data.rows(split)
    adjust = _adjust(data, rules, np.ones(len(q), bool), gallery, RULE_WEIGHT)
    top = top_rows(q, data.vectors, gallery, K_HIT, exclude=refs, adjust=adjust)
    out.update(_attr_summary(data, top, wanted))
    return out


def evaluate_pairs(data: FeedbackData, encode: Callable[[list[str]], np.ndarray],
                   model: Combiner, baseline: TextProjection | None, *, split: str = "test",
                   pairs: Sequence[PairRecord] | None = None, by_family: bool = False) -> dict:
    """Recall@10/50 (overall, per family), attribute presence in the top-10, and baselines."""
    pairs = list(pairs) if pairs is not None else data.split_pairs(split)
    refs, tgts, caps, fams = queries_of(pairs, data)
    if len(refs) == 0:
        raise ValueError(f"no captioned pairs in split {split!r}")
    txt = encode(caps)
    img = data.vectors[refs]
    wanted = {a: wanted_values(caps, a) for a in HIT_ATTRS}
    gallery = data.rows(split)
    methods = METHODS if baseline is not None else ("model", "image_only")
    results: dict[str, dict] = {}
    for method in methods:
        q = compose(method, model, baseline, img, txt)
        ranks = _ranks(data, q, refs, tgts, fams, split, by_family)
        summary = recall_summary(ranks)
        top = top_rows(q, data.vectors, gallery, K_HIT, exclude=refs)
        summary.update(_attr_summary(data, top, wanted))
        if method == "model":
            with_rules = _with_rules(data, q, refs, tgts, caps, fams, split, by_family, wanted,
                                     model, encode)
            per = defaultdict(list)
            for f, r in zip(fams, ranks, strict=True):
                per[f].append(r)
            summary["per_family"] = {f: recall_summary(np.array(v)) for f, v in sorted(per.items())}
        results[method] = summary
    out = results.pop("model")
    out["baselines"] = results
    out["with_rules"] = with_rules
    return out


def _attr_summary(data: FeedbackData, top: np.ndarray,
                  wanted: dict[str, list[frozenset[str] | None]]) -> dict:
    per_attr, all_hits = {}, []
    for attr, w in wanted.items():
        values = [data.attr(r, attr) for r in range(len(data.skus))]
        if all(v is None for v in values):  # unlabelled items (FashionIQ): nothing to check
            w = [None] * len(w)
        hits = attribute_hits(top, values, w)
        per_attr[attr] = hit_rate(hits)
        all_hits.append(hits)
    return {"attr_hit_at_10": hit_rate(np.concatenate(all_hits)), "attr_hits": per_attr}
