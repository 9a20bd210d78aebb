"""The one gate for catalog items: declared fields, typed values, safe keys and plain text.

Every importer (folders and their metadata, tables, analysis JSON, the demo catalog, uploads)
builds an :class:`Item` and passes it through :func:`validate_item` before anything is
written; metadata rows use the same checks field by field so that a rejection names the row.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields
from typing import Any

from core.storage.records import ATTR_KEYS, Item

SKU_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SKU_RULE = "1-64 letters, digits, '-' or '_', starting with a letter or digit"
TEXT_MAX = 200
LABEL_MAX = 64
SPLIT_VALUES = ("train", "val", "test")
# Keys `extra` may hold (what importers keep beside the catalog fields).
EXTRA_KEYS = ("file", "analysis_file", "scores", "det_score", "box", "family", "render")
ITEM_FIELDS = tuple(f.name for f in fields(Item))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NESTING = 3


class InvalidField(ValueError):
    """A value that may not enter the catalog; ``str()`` is "field: reason"."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


def check_key(key: Any, where: str = "field") -> str:
    """A document key: text without a leading '$', dots or control characters."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidField(where, f"invalid name {key!r}")
    if key.startswith("$") or "." in key or _CONTROL.search(key) or len(key) > LABEL_MAX:
        raise InvalidField(where, f"invalid name {key!r} (no leading '$', dots or control "
                           "characters)")
    return key


def check_text(field: str, value: Any, *, max_len: int = TEXT_MAX) -> str:
    """Plain one-line text (numbers are taken as their text); stripped."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidField(field, f"expected text, got {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidField(field, f"expected text, got {value!r}")
    text = str(value).strip()
    if _CONTROL.search(text):
        raise InvalidField(field, "contains a control character (newline, tab, ...)")
    if text.startswith("$"):
        raise InvalidField(field, f"{text!r} starts with '$'")
    if len(text) > max_len:
        raise InvalidField(field, f"longer than {max_len} characters")
    return text


def check_label(field: str, value: Any) -> str:
    """A category or attribute value: text, stored lower-case with single spaces."""
    return " ".join(check_text(field, value, max_len=LABEL_MAX).split()).lower()


def check_sku(value: Any) -> str:
    text = check_text("sku", value, max_len=LABEL_MAX)
    if not SKU_RE.fullmatch(text):
        raise InvalidField("sku", f"{text!r} is not a valid sku ({SKU_RULE})")
    return text


def check_attrs(attrs: Any) -> dict[str, str]:
    """Known attribute names (ATTR_KEYS) with text values; empty values left out."""
    if not isinstance(attrs, dict):
        raise InvalidField("attrs", f"expected an object, got {_kind(attrs)}")
    out = {}
    for key, value in attrs.items():
        if key not in ATTR_KEYS:
            raise InvalidField(f"attrs.{key}", f"unknown attribute (known: {', '.join(ATTR_KEYS)})")
        if value is not None and str(value).strip() != "":
            out[key] = check_label(f"attrs.{key}", value)
    return out


def check_number(field: str, value: Any, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidField(field, f"expected a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidField(field, f"{value!r} is below {minimum:g}")
    return float(value)


def check_plain(field: str, value: Any, depth: int = 0) -> Any:
    """Free-form data (extra, tags): safe keys, finite numbers, plain text, shallow nesting."""
    if depth > _NESTING:
        raise InvalidField(field, "nested too deeply")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return check_number(field, value)
    if isinstance(value, str):
        return check_text(field, value, max_len=1000)
    if isinstance(value, list | tuple):
        return [check_plain(field, v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {check_key(k, f"{field}.{k}"): check_plain(f"{field}.{k}", v, depth + 1)
                for k, v in value.items()}
    raise InvalidField(field, f"unsupported value of type {_kind(value)}")


def validate_item(item: Item) -> Item:
    """``item`` when every field holds a declared, well-typed value; InvalidField otherwise."""
    check_sku(item.sku)
    check_label("category", item.category)
    check_attrs(item.attrs)
    check_text("name", item.name)
    for key in ("brand", "gender", "store_id"):
        if getattr(item, key) is not None:
            check_text(key, getattr(item, key), max_len=LABEL_MAX)
    if item.split is not None and item.split not in SPLIT_VALUES:
        raise InvalidField("split", f"{item.split!r} is not one of {', '.join(SPLIT_VALUES)}")
    if item.price is not None:
        check_number("price", item.price, minimum=0)
    check_number("popularity", item.popularity)
    unknown = [k for k in item.extra if k not in EXTRA_KEYS]
    if unknown:
        raise InvalidField(f"extra.{unknown[0]}", "not a declared field")
    check_plain("extra", item.extra)
    check_plain("tags", item.tags)
    return item


def _kind(value: Any) -> str:
    return "an object" if isinstance(value, dict) else type(value).__name__
