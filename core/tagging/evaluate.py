"""Evaluation of the colour reader on labelled photos, and of photo search's colour ranking.

Labels file: ``{"palette": [...], "labels": {"dress/x.jpg": {"color": "red", "second": null,
"pattern": "solid", "worn": false, "skip"?: true}}}`` with paths relative to the photos'
split folder (``validation/`` by default, ``train/`` for the development labels; the folder
itself when it has no such split).

Reader: strict = the read name is the labelled colour; lenient also accepts the label's second
colour and the labelled colour's lighter / darker neighbour. Search: the share of top-k results
whose catalog colour is the photo's labelled colour, visual ranking vs colour-ranked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image

from core.progress import Progress
from core.tagging.colour import ColourReading, read_colour
from core.tagging.colour_rank import COLOUR_BONUS, POOL, rerank
from core.taxonomy import COLORS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    color: str
    second: str | None
    worn: bool
    pattern: str | None = None


SPLITS = ("validation", "train")


def photo_root(data: Path, split: str = "validation") -> Path:
    """The folder labels are relative to: ``data/<split>`` when present, else ``data``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")
    return data / split if (data / split).is_dir() else data


def load_labels(labels_path: Path, root: Path) -> tuple[list[LabelledPhoto], dict[str, int]]:
    """Usable labelled photos and counts of those left out (skipped, unknown colour, missing
    file). Raises ValueError naming the file when it is not a labels file."""
    try:
        doc = json.loads(Path(labels_path).read_text())
        labels = doc["labels"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{labels_path}: not a colour labels file ({exc})") from None
    photos, left_out = [], {"skipped": 0, "unknown_colour": 0, "missing_file": 0}
    for rel, lab in sorted(labels.items()):
        if lab.get("skip") or not lab.get("color"):
            left_out["skipped"] += 1
        elif lab["color"] not in COLORS:
            left_out["unknown_colour"] += 1
        elif not (root / rel).is_file():
            left_out["missing_file"] += 1
        else:
            second = lab.get("second") if lab.get("second") in COLORS else None
            photos.append(LabelledPhoto(root / rel, lab["color"], second, bool(lab.get("worn")),
                                        lab.get("pattern")))
    return photos, left_out


def _colour_names(labels_path: Path) -> dict[str, tuple[str, str | None]]:
    """Relative path -> (palette colour, alt name or None) of a labels file's coloured photos."""
    try:
        labels = json.loads(Path(labels_path).read_text())["labels"]
        return {rel: (lab["color"], lab.get("alt") if lab.get("alt") in COLORS else None)
                for rel, lab in labels.items()
                if not lab.get("skip") and lab.get("color") in COLORS}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{labels_path}: not a colour labels file ({exc})") from None


def agreement(first: Path, second: Path) -> tuple[set[str], dict[str, Any]]:
    """How often two labellings of the same photos name the same colour: (relative paths of
    the photos both name alike, figures). Figures: photos both gave a colour, the share named
    alike ("exact"), the share where the first's colour is the second's colour or its
    alternative ("within_alt"), photos only one left out, and the commonest disagreements."""
    from collections import Counter

    a, b = _colour_names(first), _colour_names(second)
    both = sorted(set(a) & set(b))
    if not both:
        raise ValueError(f"{first} and {second} name the colour of no photo in common")
    alike = {rel for rel in both if a[rel][0] == b[rel][0]}
    within = sum(a[rel][0] in b[rel] for rel in both)
    differ = Counter((a[rel][0], b[rel][0]) for rel in both if rel not in alike)
    figures = {"photos": len(both), "agreed": len(alike),
               "exact": round(len(alike) / len(both), 4),
               "within_alt": round(within / len(both), 4),
               "one_left_out": len(set(a) ^ set(b)),
               "disagreements": [{"first": x, "second": y, "photos": n}
                                 for (x, y), n in differ.most_common(10)]}
    return alike, figures


def accepted(read: str, photo: LabelledPhoto) -> bool:
    """Lenient match: the labelled colour, its second colour, or a lighter/darker neighbour."""
    c = COLORS[photo.color]
    return read in {photo.color, photo.second, c.lighter, c.darker} - {None}


def reader_figures(photos: list[LabelledPhoto], readings: list[ColourReading]) -> dict:
    """Strict and lenient accuracy for all photos, worn ones and not-worn ones."""
    out: dict[str, Any] = {}
    for group, keep in (("all", lambda _p: True), ("worn", lambda p: p.worn),
                        ("not_worn", lambda p: not p.worn)):
        pairs = [(p, r) for p, r in zip(photos, readings, strict=True) if keep(p)]
        n = len(pairs)
        out[group] = {
            "photos": n,
            "strict": round(sum(r.name == p.color for p, r in pairs) / n, 4) if n else None,
            "lenient": round(sum(accepted(r.name, p) for p, r in pairs) / n, 4) if n else None,
        }
    return out


def map_photos(photos, read: Callable[[Image.Image], Any],
               progress: Progress | None = None) -> list:
    """``read(image)`` of every labelled photo (anything with a ``path``), in order."""
    out = []
    for i, p in enumerate(photos, 1):
        with Image.open(p.path) as img:
            out.append(read(img))
        if progress:
            progress(i, len(photos))
    return out


def read_photos(photos: list[LabelledPhoto], progress: Progress | None = None
                ) -> list[ColourReading]:
    """The reader's reading of every labelled photo."""
    return map_photos(photos, read_colour, progress)


def search_colour_match(engine, repo, photos: list[LabelledPhoto], *, k: int = 5,
                        bonuses: tuple[float, ...] = (0.0, COLOUR_BONUS),
                        readings: list[ColourReading] | None = None,
                        read_colour_only: bool = False, used: list | None = None,
                        progress: Progress | None = None) -> dict[float, dict[str, float]]:
    """Bonus -> share of top-k results whose catalog colour is the photo's labelled colour
    ("colour") and whose category belongs to the photo's class folder ("class", what colour
    ranking may cost); bonus 0 is plain visual search. One visual search of a ``POOL`` per
    photo serves all bonuses. ``readings``: the photos' colour readings to rank by instead of
    the search's own; ``read_colour_only``: rank by the read colour alone (times its
    confidence), not the reading's distribution; ``used``: a list the reading each photo was
    ranked by is appended to."""
    from core.models.labels import real_group

    hits = {b: {"colour": 0, "class": 0} for b in bonuses}
    for i, p in enumerate(photos, 1):
        outcome = engine.search_image(repo, p.path, k=max(k, POOL), colour_rank=False)
        scores = [r.score for r in outcome.results]
        colours = [r.item.attrs.get("color") for r in outcome.results]
        group = set(real_group(p.path.parent.name) or ())
        reading = readings[i - 1] if readings is not None else outcome.colour
        if used is not None:
            used.append(reading)
        if read_colour_only and reading is not None:
            reading = replace(reading, dist=None)
        categories = [r.item.category for r in outcome.results]
        for bonus in bonuses:
            top = rerank(scores, colours, reading, bonus=bonus, categories=categories,
                         guess=outcome.category_guess)[:k]
            hits[bonus]["colour"] += sum(colours[j] == p.color for j in top)
            hits[bonus]["class"] += sum(outcome.results[j].item.category in group for j in top)
        if progress:
            progress(i, len(photos))
    n = max(1, k * len(photos))
    return {b: {m: round(h / n, 4) for m, h in got.items()} for b, got in hits.items()}


def out_of_fold_readings(photos: list[LabelledPhoto], *, folds: int = 4, seed: int = 0,
                         progress: Progress | None = None) -> list[ColourReading]:
    """Each photo's colour as read by a pixel colour classifier fitted on the other folds'
    photos: on the development photos, a reading their own labels did not shape (what a
    ranking rule is tuned against there)."""
    from core.tagging.colour_model import labelled_features, out_of_fold_probs

    names, probs = out_of_fold_probs(labelled_features(photos, progress),
                                     [p.color for p in photos], folds=folds, seed=seed)
    out = []
    for row in probs:
        dist = dict(zip(names, row.tolist(), strict=True))
        name = max(dist, key=dist.__getitem__)
        out.append(ColourReading(name, None, round(dist[name], 3), 0.0, "pixels", dist))
    return out


def confusions(photos: list[LabelledPhoto], readings: list[ColourReading], top: int = 10
               ) -> list[dict[str, Any]]:
    """The most common (labelled, read) mistakes."""
    from collections import Counter

    wrong = Counter((p.color, r.name) for p, r in zip(photos, readings, strict=True)
                    if r.name != p.color)
    return [{"label": a, "read": b, "photos": n} for (a, b), n in wrong.most_common(top)]


def catalog_holds(repo, demo_dir: Path) -> bool:
    """Whether the repository's catalog holds the demo catalog folder's items (first and last
    SKUs of its items.jsonl)."""
    lines = [ln for ln in (demo_dir / "items.jsonl").read_text().splitlines() if ln.strip()]
    if not lines:
        return False
    skus = [json.loads(lines[0])["sku"], json.loads(lines[-1])["sku"]]
    return len(repo.get_items(skus)) == len(skus)


def strict_share(photos: list[LabelledPhoto], readings: list[ColourReading | None]) -> float:
    """The share of photos whose reading names the labelled colour."""
    return round(sum(r is not None and r.name == p.color
                     for p, r in zip(photos, readings, strict=True)) / len(photos), 4)


def _search_figures(engine, repo, photos: list[LabelledPhoto], *, k: int,
                    bonuses: tuple[float, ...], out_of_fold: bool, read_colour_only: bool,
                    progress) -> dict[str, Any]:
    """eval_colour's photo-search part: {"search": …}."""
    ranked_by = None
    if out_of_fold:
        ranked_by = out_of_fold_readings(photos, progress=progress("folds") if progress
                                         else None)
    sweep = tuple(sorted({0.0, COLOUR_BONUS, *bonuses}))
    used: list[ColourReading | None] = []
    match = search_colour_match(engine, repo, photos, k=k, bonuses=sweep, readings=ranked_by,
                                read_colour_only=read_colour_only, used=used,
                                progress=progress("search") if progress else None)
    search = {"k": k, "model_id": engine.model_id,
              "catalog_items": repo.count_items(), "bonus": COLOUR_BONUS,
              # how often the colour ranked by is the labelled one
              "reading_strict": strict_share(photos, used),
              "plain": match[0.0]["colour"],
              "colour_ranked": match[COLOUR_BONUS]["colour"],
              "class": {"plain": match[0.0]["class"],
                        "colour_ranked": match[COLOUR_BONUS]["class"]},
              "ranked_by": ("out-of-fold pixel classifier" if out_of_fold
                            else "the search's reading")
              + (", read colour only" if read_colour_only else ""),
              "sweep": [{"bonus": b, **match[b]} for b in sweep]}
    return {"search": search}


def eval_colour(data: Path, labels: Path, *, split: str = "validation", engine=None, repo=None,
                k: int = 5, bonuses: tuple[float, ...] = (), out_of_fold: bool = False,
                read_colour_only: bool = False, agreed_with: Path | None = None,
                progress: Callable[[str], Progress | None] | None = None) -> dict[str, Any]:
    """Reader accuracy on labelled photos of ``split``; with ``engine`` and ``repo``, top-k
    colour match of photo search, plain and colour-ranked, and for each of ``bonuses``
    (a sweep). ``out_of_fold``: rank by out-of-fold pixel-classifier readings (for the
    development photos) instead of the search's own; ``read_colour_only``: rank by the read
    colour alone (times its confidence) instead of the reading's distribution;
    ``agreed_with``: a second labelling of the same photos, made blind: only the photos both
    name the same colour are measured, and the two labellings' agreement is reported.
    ``progress(stage)`` gives a stage's callback."""
    from collections import Counter

    root = photo_root(data, split)
    photos, left_out = load_labels(labels, root)
    agreed = None
    if agreed_with is not None:
        alike, agreed = agreement(labels, agreed_with)
        left_out["labellings_differ"] = sum(
            p.path.relative_to(root).as_posix() not in alike for p in photos)
        photos = [p for p in photos if p.path.relative_to(root).as_posix() in alike]
    if not photos:
        raise ValueError(f"{labels}: no usable labelled photo under {root}")
    readings = read_photos(photos, progress("read") if progress else None)
    result: dict[str, Any] = {
        "data": str(root), "split": split, "labels": str(labels), "photos": len(photos),
        "left_out": left_out,
        **({"agreement": {"with": str(agreed_with), **agreed}} if agreed else {}),
        "reader": reader_figures(photos, readings),
        "methods": dict(Counter(r.method for r in readings)),
        "confusions": confusions(photos, readings)}
    if engine is not None and repo is not None:
        result.update(_search_figures(engine, repo, photos, k=k, bonuses=bonuses,
                                      out_of_fold=out_of_fold,
                                      read_colour_only=read_colour_only, progress=progress))
    log.info("colour eval: %s photos, strict %s", len(photos), result["reader"]["all"]["strict"])
    return result
