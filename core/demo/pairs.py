"""Reference→target pairs for text-feedback search (FashionIQ-style ground truth).

Two items of one family and one split whose visible attributes differ in one or two of
category, colour, pattern, sleeve, length and fit, with captions that say how to get from the
reference to the target.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.demo.captions import captions_for
from core.demo.specs import changes_between

CROSS_LINE_TRIES = 24  # random same-family partners tried per item beyond its product line


def _candidates(items: Sequence[dict], rng) -> list[tuple[int, int]]:
    by_line: dict[str, list[int]] = {}
    by_group: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(items):
        by_line.setdefault(item.get("line", item["sku"]), []).append(i)
        by_group.setdefault((item["split"], item["family"]), []).append(i)
    out = []
    for members in by_line.values():
        out += [(a, b) for a in members for b in members if a != b]
    for i, item in enumerate(items):
        group = by_group[(item["split"], item["family"])]
        for k in rng.integers(0, len(group), size=min(CROSS_LINE_TRIES, len(group))):
            out.append((i, group[int(k)]))
    return out


def make_pairs(items: Sequence[dict], rng, max_pairs: int, captions: int = 3) -> list[dict]:
    """Up to ``max_pairs`` pairs, product-line siblings first, each with several captions."""
    seen: set[tuple[int, int]] = set()
    pairs = []
    for a, b in _candidates(items, rng):
        ref, tgt = items[a], items[b]
        if (a, b) in seen or a == b or ref["split"] != tgt["split"]:
            continue
        if ref["family"] != tgt["family"]:
            continue
        seen.add((a, b))
        changes = changes_between(ref, tgt)
        if 1 <= len(changes) <= 2:
            pairs.append((a, b, changes))
    order = rng.permutation(len(pairs))[:max_pairs]
    out = []
    for n, k in enumerate(sorted(int(i) for i in order)):
        a, b, changes = pairs[k]
        out.append({
            "pair_id": f"P{n:06d}", "reference": items[a]["sku"], "target": items[b]["sku"],
            "changes": changes, "captions": captions_for(changes, rng, captions),
            "split": items[a]["split"],
        })
    return out
