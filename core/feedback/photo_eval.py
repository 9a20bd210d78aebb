"""Refine from real photos: do requests that start from the photo's own colour, sleeves and
category do what they say? Labelled photos (colour by eye, class by folder) are the
references; each gets requests whose answer depends on what the photo is read as:

- "darker" / "lighter": the share of the top 10 whose colour is darker / lighter (CIE
  lightness) than the photo's labelled colour;
- "in <another colour>": the share of the top 10 of the photo's class (its kind of garment
  kept) and of that colour;
- "with longer sleeves" of t-shirt photos, "with shorter sleeves" of long-sleeve photos: the
  share of the top 10 with longer (shorter) sleeves than the photo's.

Two readings of the photo are compared: the product's (:mod:`core.tagging.photo`) and a
baseline that reads colour with the rule-based pixel reader and keeps only the top category's
family.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from core.feedback.shades import lightness
from core.progress import Progress
from core.taxonomy import CATEGORIES, COLORS, SLEEVES

K = 10
SLEEVE_OF_CLASS = {"t-shirt": "short", "longsleeve": "long"}
OTHER_COLOUR = ("red", "blue")  # "in red", or "in blue" for a red photo


def baseline_reference(ref, image: Image.Image):
    """The photo's reference as a baseline reads it: colour from the rule-based pixel reader
    (when it is at least half sure), the top category's family only, no sleeves, no
    category."""
    from core.tagging.colour import read_colour

    reading = read_colour(image)
    attrs = {"color": reading.name} if reading.confidence >= 0.5 else {}
    guess = ref.reading and ref.reading.category
    family = CATEGORIES[guess].family if guess in CATEGORIES else ref.family
    return replace(ref, family=family, attrs=attrs, category=None, reading=None)


def _requests(photo) -> list[tuple[str, str]]:
    """(row, text) of the requests asked of a labelled photo."""
    out = []
    if any(lightness(c) < lightness(photo.color) for c in COLORS):
        out.append(("darker", "darker"))
    if any(lightness(c) > lightness(photo.color) for c in COLORS):
        out.append(("lighter", "lighter"))
    other = OTHER_COLOUR[photo.color == OTHER_COLOUR[0]]
    out.append(("other_colour", f"in {other}"))
    own = SLEEVE_OF_CLASS.get(photo.path.parent.name)
    if own:
        out.append(("sleeves", "with longer sleeves" if own == "short" else
                    "with shorter sleeves"))
    return out


def _hit(row: str, text: str, photo, item, group: set[str]) -> dict[str, float]:
    colour = (item.attrs or {}).get("color")
    if row in ("darker", "lighter"):
        if colour is None:
            return {"hit": 0.0}
        sign = -1 if row == "darker" else 1
        return {"hit": float(sign * (lightness(colour) - lightness(photo.color)) > 0)}
    if row == "other_colour":
        return {"hit": float(colour == text.removeprefix("in ")),
                "same_class": float(item.category in group)}
    sleeve = (item.attrs or {}).get("sleeve")
    own = SLEEVE_OF_CLASS[photo.path.parent.name]
    if sleeve not in SLEEVES:
        return {"hit": 0.0}
    step = SLEEVES.index(sleeve) - SLEEVES.index(own)  # > 0: longer sleeves than the photo's
    return {"hit": float(step > 0 if own == "short" else step < 0)}


def eval_photo_refs(refiner, repo, data: Path, labels: Path, *, split: str = "validation",
                    k: int = K, progress: Progress | None = None) -> dict[str, Any]:
    """Per request row and reading ("product", "baseline"): photos asked and the mean share
    of the top k meeting the request (and, for another colour, of the photo's class)."""
    from core.images import load_image
    from core.models.labels import real_group
    from core.tagging.evaluate import load_labels, photo_root

    root = photo_root(data, split)
    photos, left_out = load_labels(labels, root)
    sums: dict[str, dict[str, dict[str, float]]] = {}
    for i, photo in enumerate(photos, 1):
        image = load_image(photo.path)
        ref = refiner.photo_reference(image)
        group = set(real_group(photo.path.parent.name) or ())
        for name, reference in (("product", ref), ("baseline", baseline_reference(ref, image))):
            for row, text in _requests(photo):
                found = refiner.refine(repo, reference, text, k=k).results
                cell = sums.setdefault(row, {}).setdefault(name, {"photos": 0})
                cell["photos"] += 1
                for r in found:
                    for m, v in _hit(row, text, photo, r.item, group).items():
                        cell[m] = cell.get(m, 0.0) + v / max(1, len(found))
        if progress:
            progress(i, len(photos))
    rows = {row: {name: {m: (v if m == "photos" else round(v / cell["photos"], 3))
                         for m, v in cell.items()} for name, cell in by.items()}
            for row, by in sums.items()}
    return {"data": str(root), "labels": str(labels), "photos": len(photos), "k": k,
            "left_out": left_out, "model_id": refiner.model_id, "rows": rows}
