"""Real shopper captions (FashionIQ caption files, no images) as a held-out phrasing test.

A fixed fifth of the caption pairs (by a hash of candidate and target ids) is held out. For
each held-out caption that names a colour (pattern, sleeve), a random catalog item of the
matching kind is the reference; a hit is a top-10 result of the requested colour. The
reference-only baseline shows how often that happens without reading the text.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.feedback.data import FeedbackData
from core.feedback.evaluate import compose
from core.feedback.fashioniq import CATEGORIES, read_caption_file
from core.feedback.metrics import attribute_hits, hit_rate, top_rows
from core.feedback.model import Combiner, TextProjection
from core.feedback.parse import parse_feedback

HELD_OUT_MOD = 5  # one pair in five is held out
REAL_ATTRS = ("color", "pattern", "sleeve")
# FashionIQ category -> catalog categories to draw references from (and their family).
REFERENCE_KINDS = {"dress": (("dress",), "full"), "shirt": (("shirt",), "top"),
                   "toptee": (("tee", "tank", "top"), "top")}


def is_held_out(candidate: str, target: str | None) -> bool:
    digest = hashlib.sha1(f"{candidate}>{target or ''}".encode()).hexdigest()
    return int(digest[:8], 16) % HELD_OUT_MOD == 0


def read_real_captions(folder: Path, part: str = "heldout") -> list[tuple[str, str]]:
    """(FashionIQ category, caption) of the held-out ("heldout") or remaining ("train") part."""
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


def real_caption_eval(data: FeedbackData, encode: Callable[[list[str]], np.ndarray],
                      model: Combiner, baseline: TextProjection | None, folder: Path, *,
                      split: str = "test", seed: int = 0, limit: int | None = None) -> dict:
    """Attribute presence in the top-10 for held-out real captions, per attribute and method."""
    captions = read_real_captions(folder)
    parsed = [(cat, cap, parse_feedback(cap)) for cat, cap in captions]
    asked = [(cat, cap, p) for cat, cap, p in parsed
             if any(p.requested(a) for a in REAL_ATTRS)]
    rng = random.Random(seed)
    if limit is not None and len(asked) > limit:
        asked = rng.sample(asked, limit)
    gallery = data.rows(split)
    if len(gallery) < 2 or not asked:
        return {"n_heldout": len(captions), "n_asked": len(asked)}
    refs = np.array([rng.choice(_reference_pool(data, gallery, cat)) for cat, _, _ in asked])
    txt = encode([cap for _, cap, _ in asked])
    img = data.vectors[refs]
    methods = ("model", "image_only") if baseline is None else ("model", "image_only",
                                                                 "text_only", "sum")
    tops = {m: top_rows(compose(m, model, baseline, img, txt), data.vectors, gallery, 10,
                        exclude=refs) for m in methods}
    out: dict = {"n_heldout": len(captions), "split": f"1 in {HELD_OUT_MOD} pairs by id hash"}
    for attr in REAL_ATTRS:
        wanted = [p.requested(attr) for _, _, p in asked]
        values = [data.attr(r, attr) for r in range(len(data.skus))]
        entry = {"n": int(sum(w is not None for w in wanted))}
        for m in methods:
            key = "attr_hit_at_10" if m == "model" else m
            entry[key] = hit_rate(attribute_hits(tops[m], values, wanted))
        out[attr] = entry
    single = [len(p.values("color")) == 1 and p.requested("color") is not None
              for _, _, p in asked]
    values = [data.attr(r, "color") for r in range(len(data.skus))]
    wanted = [p.requested("color") if s else None for (_, _, p), s in zip(asked, single,
                                                                          strict=True)]
    out["single_color"] = {"n": int(sum(single)), **{
        ("attr_hit_at_10" if m == "model" else m): hit_rate(attribute_hits(tops[m], values,
                                                                           wanted))
        for m in methods}}
    out["attr_hit_at_10"] = out["color"]["attr_hit_at_10"]
    out["reference_only"] = out["color"]["image_only"]
    return out
