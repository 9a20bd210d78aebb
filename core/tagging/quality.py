"""`eval tags`: how often auto-tagging is right on labelled real photos, by confidence.

Category is right when the predicted catalog category belongs to the photo's class folder
(``REAL_CLASS_GROUPS``); colour and pattern are compared with the labels file; sleeves with
what the class folder says of them (``SLEEVE_OF_CLASS``: t-shirts short, long-sleeve tops and
outerwear long; photos of other classes are left out). For each field
the figures are given over all photos and over those whose confidence reaches a threshold
(coverage and accuracy), so that a minimum confidence for writing a tag can be chosen on a
development split and reported on another.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

from core.models.labels import real_group
from core.progress import Progress
from core.tagging.colour import read_colour
from core.tagging.colour_model import combine
from core.tagging.evaluate import LabelledPhoto, load_labels, photo_root

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)


COLOUR_FIELDS = ("color", "color_head", "color_pixels", "color_reader")
SLEEVE_OF_CLASS = {"t-shirt": "short", "longsleeve": "long", "outwear": "long"}
FIELDS = ("category", *COLOUR_FIELDS, "pattern", "sleeve")


def read_tags(embedder, photos: list[LabelledPhoto], *, batch_size: int = 32,
              pixel_model=None, progress: Progress | None = None
              ) -> list[dict[str, tuple[str, float]]]:
    """Per photo: category, pattern and sleeves from the encoder's heads; colour as tagging reads it
    ("color": the encoder's colour head and the pixel classifier combined, each when present)
    and by each reader alone ("color_head", "color_pixels", "color_reader": the rule-based
    pixel reader)."""
    out: list[dict[str, tuple[str, float]]] = []
    for start in range(0, len(photos), batch_size):
        images = []
        for p in photos[start:start + batch_size]:
            with Image.open(p.path) as img:
                images.append(img.convert("RGB"))
        heads = embedder.predict_attrs(images)
        for img, read in zip(images, heads, strict=True):
            colour = read_colour(img)
            head = read.get("color_dist") if embedder.reads_photo_colour else None
            pixels = pixel_model.distribution(img) if pixel_model is not None else None
            got = {"color_reader": (colour.name, colour.confidence),
                   "color": combine(head, pixels) or (colour.name, colour.confidence)}
            for name, dist in (("color_head", read.get("color_dist")),
                               ("color_pixels", pixels)):
                if dist:
                    got[name] = combine(dist, None)
            out.append({**{k: read[k] for k in ("category", "pattern", "sleeve") if k in read},
                        **got})
        if progress:
            progress(min(start + batch_size, len(photos)), len(photos))
    return out


def truth_of(photo: LabelledPhoto, field: str) -> str | frozenset[str] | None:
    """The right answer(s) for a field: the class folder's categories, or the label."""
    if field == "category":
        return frozenset(real_group(photo.path.parent.name) or ())
    if field == "sleeve":
        return SLEEVE_OF_CLASS.get(photo.path.parent.name)
    return photo.color if field in COLOUR_FIELDS else photo.pattern


def field_figures(photos: list[LabelledPhoto], reads: list[dict], field: str) -> dict[str, Any]:
    """Accuracy over all photos, then coverage and accuracy above each confidence threshold,
    beside the majority-answer baseline."""
    pairs = [(truth_of(p, field), r[field]) for p, r in zip(photos, reads, strict=True)
             if field in r and truth_of(p, field)]
    if not pairs:
        return {}

    def right(truth, value: str) -> bool:
        return value in truth if isinstance(truth, frozenset) else value == truth

    rows = []
    for t in THRESHOLDS:
        kept = [(truth, v) for truth, (v, c) in pairs if c >= t]
        rows.append({"min_confidence": t, "coverage": round(len(kept) / len(pairs), 4),
                     "accuracy": round(sum(right(tr, v) for tr, v in kept) / len(kept), 4)
                     if kept else None})
    out: dict[str, Any] = {"photos": len(pairs), "accuracy": rows[0]["accuracy"],
                           "by_confidence": rows}
    if field != "category":
        common, n = Counter(truth for truth, _ in pairs).most_common(1)[0]
        out["majority_baseline"] = {"answer": common, "accuracy": round(n / len(pairs), 4)}
    return out


def eval_tags(embedder, data: Path, labels: Path, *, split: str = "validation",
              pixel_model=None, progress: Progress | None = None) -> dict[str, Any]:
    """Auto-tagging accuracy on the labelled photos of ``split`` (see the module doc)."""
    root = photo_root(data, split)
    photos, left_out = load_labels(labels, root)
    if not photos:
        raise ValueError(f"{labels}: no usable labelled photo under {root}")
    reads = read_tags(embedder, photos, pixel_model=pixel_model, progress=progress)
    return {"data": str(root), "split": split, "model": embedder.model_id,
            "photos": len(photos), "left_out": left_out,
            **{f: field_figures(photos, reads, f) for f in FIELDS}}
