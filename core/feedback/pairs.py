"""Reference -> target pairs drawn from catalog attributes (one or two visible changes).

Two items of the same family and split form a pair when they differ in one or two of
category, colour, pattern, sleeve, length and fit. Targets per reference are sampled so
that every kind of change gets its share, deterministically for a seed.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from core.storage.records import Item
from core.taxonomy import CATEGORIES, NA

PAIR_ATTRS = ("category", "color", "pattern", "sleeve", "length", "fit")
SPLIT_FRACTIONS = (("train", 0.7), ("val", 0.15), ("test", 0.15))


@dataclass
class PairRecord:
    """One reference -> target example; ``changes`` maps attribute -> (from, to)."""

    reference: str
    target: str
    changes: dict[str, tuple[str, str]]
    family: str
    category: str  # the target's category (for lead-ins like "the dress is ...")
    split: str
    captions: list[str] = field(default_factory=list)
    pair_id: str = ""

    def __post_init__(self) -> None:
        if not self.pair_id:
            self.pair_id = f"{self.reference}>{self.target}"


def family_of_item(item: Item) -> str:
    """The item's family (taxonomy family, else its category)."""
    fam = (item.extra or {}).get("family")
    if fam:
        return str(fam)
    cat = CATEGORIES.get(item.category)
    return cat.family if cat else item.category


def split_of_item(item: Item) -> str:
    """train / val / test: the item's own split, else a stable 70/15/15 split by sku hash."""
    if item.split in ("train", "val", "test"):
        return item.split
    h = int(hashlib.sha1(item.sku.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    acc = 0.0
    for name, frac in SPLIT_FRACTIONS:
        acc += frac
        if h <= acc:
            return name
    return "test"


def item_values(item: Item) -> tuple[str, ...]:
    return (item.category, *(str(item.attrs.get(a, NA) or NA) for a in PAIR_ATTRS[1:]))


def attribute_pairs(items: Iterable[Item], *, per_reference: int = 6, max_changes: int = 2,
                    seed: int = 0, splits: Iterable[str] | None = None) -> list[PairRecord]:
    """Pairs within each (split, family) group differing in 1..max_changes attributes."""
    wanted = set(splits) if splits is not None else None
    groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in items:
        split = split_of_item(item)
        if wanted is None or split in wanted:
            groups[(split, family_of_item(item))].append(item)
    rng = random.Random(seed)
    pairs: list[PairRecord] = []
    for (split, family), members in sorted(groups.items()):
        members.sort(key=lambda it: it.sku)
        pairs.extend(_group_pairs(members, split, family, per_reference, max_changes, rng))
    return pairs


def _group_pairs(members: list[Item], split: str, family: str, per_reference: int,
                 max_changes: int, rng: random.Random) -> list[PairRecord]:
    values = [item_values(it) for it in members]
    codes = np.array([[hash(v) for v in row] for row in values], dtype=np.int64)
    out = []
    for i, ref in enumerate(members):
        diff = codes != codes[i]
        n_diff = diff.sum(axis=1)
        cand = np.flatnonzero((n_diff >= 1) & (n_diff <= max_changes))
        if len(cand) == 0:
            continue
        by_kind: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for j in cand:
            by_kind[tuple(np.flatnonzero(diff[j]))].append(int(j))
        for j in _balanced_sample(by_kind, per_reference, rng):
            changed = np.flatnonzero(diff[j])
            changes = {PAIR_ATTRS[a]: (values[i][a], values[j][a]) for a in changed}
            out.append(PairRecord(ref.sku, members[j].sku, changes, family,
                                  members[j].category, split))
    return out


def _balanced_sample(by_kind: dict[tuple[int, ...], list[int]], n: int,
                     rng: random.Random) -> list[int]:
    """Up to n picks, round-robin over change kinds in random order."""
    pools = [rng.sample(v, len(v)) for _, v in sorted(by_kind.items())]
    rng.shuffle(pools)
    picks: list[int] = []
    while len(picks) < n and any(pools):
        for pool in pools:
            if pool and len(picks) < n:
                picks.append(pool.pop())
    return picks


def pairs_from_docs(docs: Iterable[dict], items: dict[str, Item]) -> list[PairRecord]:
    """Pairs stored by the demo ingest ({pair_id, reference, target, changes, captions, split})."""
    out = []
    for doc in docs:
        ref, tgt = items.get(str(doc.get("reference"))), items.get(str(doc.get("target")))
        if ref is None or tgt is None:
            continue
        changes = {str(k): (str(v[0]), str(v[1])) for k, v in (doc.get("changes") or {}).items()
                   if isinstance(v, list | tuple) and len(v) == 2}
        out.append(PairRecord(ref.sku, tgt.sku, changes, family_of_item(tgt), tgt.category,
                              str(doc.get("split") or split_of_item(tgt)),
                              [str(c) for c in doc.get("captions") or []],
                              str(doc.get("pair_id") or "")))
    return out
