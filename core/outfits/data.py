"""Outfits as training and evaluation examples: rows of :class:`CatalogFeatures`, labelled.

The outfits come from the catalog's ``outfits`` documents (the demo writes compatible looks
and deliberately broken ones; any Polyvore-style set of ``{"items": [...], "compatible":
bool, "split"}`` works). Structure is a separate matter from compatibility: an outfit missing
its shoes is incomplete, not clashing, so training leaves such outfits out and the service
reports missing pieces from the garment families.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.outfits.features import CatalogFeatures
from core.taxonomy import family_of

SLOTS = ("top", "bottom", "full", "outer", "shoes", "bag", "hat")
OPTIONAL_SLOTS = ("outer", "bag", "hat")
# Fault kinds of the demo's broken outfits, by the start of their reason.
FAULT_PREFIXES = (("clashing colours", "colour"), ("two prints", "pattern"),
                  ("summer piece", "season"), ("formality clash", "formality"),
                  ("mixes women", "gender"))


class NoOutfitData(LookupError):
    """Not enough outfits (with embedded items) to train or evaluate."""


@dataclass
class Outfit:
    rows: list[int]
    label: int  # 1 compatible, 0 broken
    split: str
    fault: str = ""  # the broken outfit's kind of fault (demo outfits), "" otherwise
    outfit_id: str = ""


def missing_slots(families: Sequence[str | None]) -> list[str]:
    """What a look still needs: a top and a bottom (or a one-piece), and shoes."""
    have = Counter(f for f in families if f)
    need = []
    if not have["full"]:
        need += [f for f in ("top", "bottom") if not have[f]]
    if not have["shoes"]:
        need.append("shoes")
    return need


def fault_kind(rule: str) -> str:
    for prefix, kind in FAULT_PREFIXES:
        if rule.startswith(prefix):
            return kind
    return "structure"


def outfits_from_docs(docs: Sequence[dict], feats: CatalogFeatures) -> list[Outfit]:
    """Outfits whose items all have features; broken ones carry their fault kind."""
    out = []
    for d in docs:
        skus = d.get("items") or []
        if len(skus) < 2 or any(s not in feats.row for s in skus) or "compatible" not in d:
            continue
        label = int(bool(d["compatible"]))
        fault = "" if label else fault_kind(str(d.get("rule") or ""))
        out.append(Outfit([feats.row[s] for s in skus], label, str(d.get("split") or "train"),
                          fault, str(d.get("outfit_id") or d.get("_id") or "")))
    return out


def complete(outfit: Outfit, families: Sequence[str | None]) -> bool:
    return not missing_slots([families[r] for r in outfit.rows])


def catalog_outfits(repo, feats: CatalogFeatures) -> list[Outfit]:
    outfits = outfits_from_docs(repo.find_docs("outfits"), feats)
    if not outfits:
        raise NoOutfitData("the catalog has no outfits whose items are all embedded: build the "
                           "demo catalog (it writes outfits.json) or ingest an outfits file, "
                           "then run `python -m core embed`")
    return outfits


def swap_negatives(positives: Sequence[Outfit], feats: CatalogFeatures, rng: np.random.Generator,
                   per_outfit: int = 1) -> list[Outfit]:
    """Polyvore-style negatives: one piece of a compatible outfit replaced by a random item of
    the same family and split (some of them still go together: the label is noisy)."""
    out = []
    for o in positives:
        for _ in range(per_outfit):
            pos = int(rng.integers(len(o.rows)))
            pool = feats.rows_of_family(feats.families[o.rows[pos]], o.split)
            if len(pool) < 2:
                continue
            swap = int(pool[rng.integers(len(pool))])
            if swap in o.rows:
                continue
            rows = list(o.rows)
            rows[pos] = swap
            out.append(Outfit(rows, 0, o.split, "swap"))
    return out


def padded(outfits: Sequence[Outfit], feats: CatalogFeatures
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors B x N x d, side features B x N x 31, present B x N), N the longest outfit."""
    n = max(len(o.rows) for o in outfits)
    idx = np.zeros((len(outfits), n), dtype=np.int64)
    present = np.zeros((len(outfits), n), dtype=bool)
    for b, o in enumerate(outfits):
        idx[b, :len(o.rows)] = o.rows
        present[b, :len(o.rows)] = True
    return feats.vectors[idx], feats.side[idx], present


@dataclass
class Question:
    """Fill in the blank: the outfit without one piece, and candidates (answer first)."""

    rows: list[int]
    candidates: list[int]
    outfit_id: str = ""


def fitb_questions(outfits: Sequence[Outfit], feats: CatalogFeatures, rng: np.random.Generator,
                   n_candidates: int = 4) -> list[Question]:
    """One question per compatible outfit: a random piece is hidden; the wrong candidates are
    items of the same family and split that break the look by the demo's style rules when the
    items carry the attributes those rules read (random same-family items otherwise, as in
    Polyvore's FITB)."""
    from core.demo.outfits import violations

    families = feats.families
    docs = [_rule_view(it) for it in feats.items]
    questions = []
    for o in outfits:
        if not o.label or len(o.rows) < 2:
            continue
        pos = int(rng.integers(len(o.rows)))
        answer, rest = o.rows[pos], o.rows[:pos] + o.rows[pos + 1:]
        pool = [int(r) for r in rng.permutation(feats.rows_of_family(families[answer], o.split))
                if int(r) not in o.rows]
        wrong = []
        for r in pool[:400]:
            ruled = all(docs[i] is not None for i in (*rest, r))
            if not ruled or violations([docs[i] for i in (*rest, r)]):
                wrong.append(r)
            if len(wrong) == n_candidates - 1:
                break
        if len(wrong) == n_candidates - 1:
            questions.append(Question(rest, [answer, *wrong], o.outfit_id))
    return questions


def _rule_view(item) -> dict | None:
    """An item as the style rules read it, or None when it lacks what they need."""
    attrs = item.attrs or {}
    if family_of(item.category) is None or not all(attrs.get(k) for k in ("color", "season")):
        return None
    from core.taxonomy import COLORS

    if attrs["color"] not in COLORS:
        return None
    return {"category": item.category, "attrs": attrs, "gender": item.gender}
