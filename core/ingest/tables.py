"""Readers for labelled tables: the category-label `image_name,category_label` CSV and the
"fashion analysis" JSON (detector crops with colour/pattern/season predictions)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from core.ingest.sources import (
    Candidate,
    RowError,
    Source,
    apply_metadata,
    norm_label,
    read_csv,
    read_json,
)
from core.taxonomy import LABEL_CSV_CATEGORIES

CSV_COLUMNS = ("image_name", "category_label")
ANALYSIS_ATTRS = ("color", "pattern", "season")


def category_from_label(value: str) -> str:
    """An integer index into LABEL_CSV_CATEGORIES, or a category name."""
    text = value.strip()
    if not text:
        raise RowError("empty category_label")
    try:
        number = float(text)
    except ValueError:
        return norm_label(text)
    if not number.is_integer() or not 0 <= number < len(LABEL_CSV_CATEGORIES):
        last = len(LABEL_CSV_CATEGORIES) - 1
        raise RowError(f"unknown category_label {text} (expected 0..{last} or a category name)")
    return LABEL_CSV_CATEGORIES[int(number)]


def read_label_csv(path: Path) -> Source:
    """Rows of image_name (relative to the CSV's folder or the CWD) and category_label."""
    source = Source(format="csv-labels", root=path.parent)
    try:
        _header, rows = read_csv(path, required=CSV_COLUMNS)
    except RowError as exc:
        source.reject(path.name, str(exc))
        source.fatal = True
        return source
    for lineno, row in enumerate(rows, start=2):
        if not row:
            continue
        try:
            source.candidates.append(_csv_candidate(path, row))
        except RowError as exc:
            source.reject(path.name, f"row {lineno}: {exc}")
    return source


def _csv_candidate(path: Path, row: dict[str, str]) -> Candidate:
    if "__width__" in row:
        raise RowError(row["__width__"])
    name = row.get("image_name", "")
    if not name:
        raise RowError("empty image_name")
    category = category_from_label(row.get("category_label", ""))
    file = next((p for p in (path.parent / name, Path.cwd() / name) if p.is_file()), None)
    if file is None:
        raise RowError(f"image {name} not found (relative to {path.parent} or the CWD)")
    cand = Candidate(file=file, label=name)
    apply_metadata(cand, {k: v for k, v in row.items() if k not in CSV_COLUMNS})
    cand.category = category
    return cand


def is_analysis_json(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".json"


def analysis_files(folder: Path) -> list[Path]:
    """Fashion-analysis files in a folder (analysis.json, fashion_analysis_*.json, ...)."""
    return sorted(p for p in folder.glob("*analysis*.json")
                  if (p.is_file() or p.is_symlink()) and not p.name.startswith("."))


def read_analysis(files: list[Path], root: Path) -> Source:
    """Every item of every analysis JSON; crops resolve relative to their JSON file. A file
    that cannot be read as a whole makes the source fatal (nothing is written)."""
    source = Source(format="analysis-json", root=root)
    for path in files:
        try:
            items = _analysis_items(path)
        except RowError as exc:
            source.reject(path.name, str(exc))
            source.fatal = True
            continue
        for i, entry in enumerate(items):
            try:
                source.candidates.append(_analysis_candidate(path, entry))
            except RowError as exc:
                source.reject(path.name, f"item {i}: {exc}")
    return source


def _analysis_items(path: Path) -> list[Any]:
    data = read_json(path)
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RowError("expected an object with an 'items' list")
    return items


def _analysis_candidate(path: Path, entry: Any) -> Candidate:
    if not isinstance(entry, dict):
        raise RowError(f"expected an object, got {type(entry).__name__}")
    crop = str(entry.get("crop_file") or "").strip()
    if not crop:
        raise RowError("no crop_file")
    file = path.parent / crop
    if not file.is_file():
        raise RowError(f"crop file {crop} not found")
    extra: dict[str, Any] = {"analysis_file": path.name, "scores": {}}
    if entry.get("det_score") is not None:
        extra["det_score"] = _number(entry["det_score"], "det_score")
    if entry.get("box") is not None:
        box = entry["box"]
        if not isinstance(box, list) or len(box) != 4:
            raise RowError("box must be [x1, y1, x2, y2]")
        extra["box"] = [_number(v, "box") for v in box]
    cand = Candidate(file=file, label=crop, extra=extra)
    if str(entry.get("det_label") or "").strip():
        cand.category = norm_label(entry["det_label"])
    for key in ANALYSIS_ATTRS:
        label, score = _prediction(entry.get(key), key)
        if label:
            cand.attrs[key] = label
        if score is not None:
            extra["scores"][key] = score
    apply_metadata(cand, {k: v for k, v in entry.items() if k in ("sku", "name", "price")})
    return cand


def _prediction(value: Any, key: str) -> tuple[str | None, float | None]:
    """{"label", "score"} or a bare label string -> (lower-case label, score)."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return (norm_label(value) or None), None
    if not isinstance(value, dict):
        raise RowError(f"{key} must be {{\"label\", \"score\"}}")
    label = norm_label(value.get("label") or "") or None
    score = value.get("score")
    return label, (None if score is None else _number(score, f"{key}.score"))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RowError(f"{what} must be a number, got {value!r}")
    return float(value)
