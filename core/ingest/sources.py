"""What the format readers produce: candidates (one image + its metadata) and rejections."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.ingest.report import Rejection
from core.storage.records import ATTR_KEYS

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".jfif"}
SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val",
          "validation": "val", "test": "test", "testing": "test"}
ITEM_FIELDS = ("name", "brand", "gender", "store_id")


class RowError(ValueError):
    """One row/entry of a table or JSON file is unusable (message: the reason)."""


@dataclass
class Candidate:
    """One image to ingest and the metadata its source gives it."""

    file: Path
    label: str  # how the file is named in reports (relative to the ingested path)
    sku: str | None = None
    category: str = "unknown"
    attrs: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)  # name, price, brand, gender, ...
    mask: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Source:
    """A parsed input: its format, candidates, early rejections and side documents."""

    format: str
    root: Path
    candidates: list[Candidate] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    docs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fatal: bool = False  # a whole table/sidecar is unusable: write nothing

    def reject(self, file: str, reason: str) -> None:
        self.rejections.append(Rejection(file, " ".join(reason.split())))


def skipped_name(name: str) -> bool:
    """Hidden entries and archive debris (macOS zips) are never inputs."""
    return name.startswith(".") or name == "__MACOSX"


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTS and not skipped_name(path.name) and path.is_file()


def list_images(folder: Path, *, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` in a stable order (hidden files and folders skipped)."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if is_image_file(p)
                  and not any(skipped_name(part) for part in p.relative_to(folder).parts))


def rel_label(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def norm_split(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    return SPLITS.get(str(value).strip().lower(), str(value).strip().lower())


def norm_label(value: Any) -> str:
    """Attribute/category values are stored lower-case with single spaces."""
    return " ".join(str(value).split()).lower()


def parse_price(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        price = float(str(value).strip().lstrip("$€£"))
    except ValueError:
        raise RowError(f"price {value!r} is not a number") from None
    if not math.isfinite(price) or price < 0:
        raise RowError(f"price {value!r} is not a valid amount")
    return price


def apply_metadata(cand: Candidate, row: dict[str, Any]) -> Candidate:
    """Fill a candidate from a metadata row/object (sku, category, attrs, price, ...)."""
    if not isinstance(row, dict):
        raise RowError(f"expected an object, got {type(row).__name__}")
    attrs = row.get("attrs") or {}
    if not isinstance(attrs, dict):
        raise RowError("'attrs' must be an object")
    for key, value in {**attrs, **{k: row[k] for k in ATTR_KEYS if k in row}}.items():
        if value is not None and str(value).strip() != "":
            cand.attrs[str(key)] = norm_label(value) if isinstance(value, str) else value
    if str(row.get("sku") or "").strip():
        cand.sku = str(row["sku"]).strip()
    if str(row.get("category") or "").strip():
        cand.category = norm_label(row["category"])
    for key in ITEM_FIELDS:
        if row.get(key) not in (None, ""):
            cand.fields[key] = str(row[key]).strip()
    if "price" in row:
        cand.fields["price"] = parse_price(row["price"])
    if norm_split(row.get("split")):
        cand.fields["split"] = norm_split(row.get("split"))
    return cand


def read_json(path: Path) -> Any:
    """Parse a JSON file; raise RowError with the position of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RowError(f"cannot read file ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def read_csv(path: Path, required: tuple[str, ...] = ()) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV (header names lower-cased); RowError when unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RowError(f"cannot read file ({exc})") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise RowError(f"invalid CSV ({exc})") from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise RowError("empty CSV (no header row)")
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise RowError(f"missing column(s) {', '.join(missing)}; header is {','.join(header)}")
    out = []
    for line in rows[1:]:
        if not any(c.strip() for c in line):
            out.append({})  # blank line: keeps row numbers aligned, skipped by readers
            continue
        row = dict(zip(header, (c.strip() for c in line), strict=False))
        if any("\n" in c for c in line):
            row["__width__"] = "unterminated quote (it runs into the following lines)"
        elif len(line) != len(header):
            row["__width__"] = f"{len(line)} fields, header has {len(header)}"
        out.append(row)
    return header, out
