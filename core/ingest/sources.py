"""What the format readers produce: candidates (one image + its metadata) and rejections."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.images import IMAGE_EXTS, unsupported_suffix
from core.ingest.report import Rejection
from core.storage.records import ATTR_KEYS
from core.storage.validate import (
    LABEL_MAX,
    SPLIT_VALUES,
    TEXT_MAX,
    InvalidField,
    check_attrs,
    check_key,
    check_label,
    check_sku,
    check_text,
)

SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val",
          "validation": "val", "test": "test", "testing": "test"}
ITEM_FIELDS = ("name", "brand", "gender", "store_id")
# What a metadata row or object may hold (besides its source's own keys, e.g. the file name).
ROW_FIELDS = ("sku", "category", "attrs", "price", "split", *ITEM_FIELDS, *ATTR_KEYS)


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
    where: str = ""  # the metadata row it came from, for reports ("metadata.csv row 3")


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
    return [p for p in list_files(folder, recursive=recursive) if is_image_file(p)]


def list_files(folder: Path, *, recursive: bool = True) -> list[Path]:
    """Every non-hidden entry under ``folder`` that is not a folder (broken links included)."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if not p.is_dir()
                  and not any(skipped_name(part) for part in p.relative_to(folder).parts))


def not_an_image(path: Path) -> str | None:
    """Why a folder entry is not an image to ingest (None when it is one)."""
    if path.is_symlink() and not path.exists():
        return "broken symbolic link (its target does not exist)"
    reason = unsupported_suffix(path.name)
    if reason:
        return reason
    if not path.is_file():
        return "not a regular file"
    return None


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
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowError(f"price: expected a number, got {type(value).__name__}")
    try:
        price = float(str(value).strip().lstrip("$€£"))
    except ValueError:
        raise RowError(f"price {value!r} is not a number") from None
    if not math.isfinite(price) or price < 0:
        raise RowError(f"price {value!r} is not a valid amount")
    return price


def apply_metadata(cand: Candidate, row: dict[str, Any], *, also: tuple[str, ...] = ()
                   ) -> Candidate:
    """Fill a candidate from a metadata row/object (sku, category, attrs, price, ...); the
    row may hold only ROW_FIELDS and the source's own ``also`` keys (RowError otherwise)."""
    if not isinstance(row, dict):
        raise RowError(f"expected an object, got {type(row).__name__}")
    try:
        _check_fields(row, also)
        _apply(cand, {k: v for k, v in row.items() if not _blank(v)})
    except InvalidField as exc:
        raise RowError(str(exc)) from None
    return cand


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_fields(row: dict[str, Any], also: tuple[str, ...]) -> None:
    for key in row:
        if key in ROW_FIELDS or key in also:
            continue
        check_key(key, "field")
        raise InvalidField(str(key), f"unknown field (known: {', '.join(ROW_FIELDS)})")


def _apply(cand: Candidate, row: dict[str, Any]) -> None:
    attrs = check_attrs(row.get("attrs") or {})
    attrs.update(check_attrs({k: row[k] for k in ATTR_KEYS if k in row}))
    cand.attrs.update(attrs)
    if "sku" in row:
        cand.sku = check_sku(row["sku"])
    if "category" in row:
        cand.category = check_label("category", row["category"]) or cand.category
    for key in ITEM_FIELDS:
        if key in row:
            cand.fields[key] = check_text(key, row[key], max_len=TEXT_MAX if key == "name"
                                          else LABEL_MAX)
    if "price" in row:
        cand.fields["price"] = parse_price(row["price"])
    if "split" in row:
        split = norm_split(check_text("split", row["split"]))
        if split not in SPLIT_VALUES:
            raise InvalidField("split", f"{row['split']!r} is not one of train, val, test")
        cand.fields["split"] = split


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
