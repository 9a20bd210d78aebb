"""Turn a user-facing filter spec into a MongoDB query, refusing operator injection.

Spec: ``{field: value}`` where value is a scalar (equality), a list of scalars (``$in``) or a
:class:`Range`. Field names are plain identifiers (dotted paths allowed); attribute
shorthands (``color``) map to ``attrs.color`` and ``sku`` to ``_id``. Nothing a user types
can become an operator: dict values and ``$``-keys are rejected, and numbers must be finite.
Filters a person gives (CLI, pages) may name only :data:`USER_FIELDS`
(:func:`check_user_filters`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from core.storage.records import ATTR_KEYS

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SCALARS = (str, int, float, bool)
# The fields people filter the catalog by (the CLI's --filter, the pages' sidebars).
USER_FIELDS = ("category", "sku", *ATTR_KEYS, "price", "brand", "gender", "store_id", "split",
               "source", "popularity", "width", "height")
NUMERIC_FIELDS = ("price", "popularity", "width", "height")


class FilterError(ValueError):
    """A filter spec that cannot be turned into a safe query."""


@dataclass(frozen=True)
class Range:
    """Inclusive range on a numeric field; either end may be open."""

    min: float | None = None
    max: float | None = None


def field_path(name: str) -> str:
    if not isinstance(name, str) or not _FIELD.match(name):
        raise FilterError(f"invalid filter field {name!r}")
    if name in ATTR_KEYS:
        return f"attrs.{name}"
    return "_id" if name == "sku" else name


def check_user_filters(spec: dict[str, Any] | None) -> None:
    """FilterError unless every field of ``spec`` is one people may filter by."""
    for name in spec or {}:
        if name not in USER_FIELDS:
            raise FilterError(f"cannot filter by {name!r}; filter fields: "
                              f"{', '.join(USER_FIELDS)}")


def _condition(name: str, value: Any) -> Any:
    if isinstance(value, Range):
        cond = {}
        for op, v in (("$gte", value.min), ("$lte", value.max)):
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise FilterError(f"range bound for {name!r} must be a finite number, "
                                      f"got {v!r}")
                cond[op] = v
        return cond
    if isinstance(value, list | tuple | set | frozenset):
        values = list(value)
        bad = [v for v in values if not _plain(v)]
        if bad:
            raise FilterError(f"filter {name!r} accepts plain values only, got {bad[0]!r}")
        return {"$in": values}
    if value is None or _plain(value):
        return value
    raise FilterError(f"filter {name!r} accepts plain values only, got {value!r}")


def _plain(value: Any) -> bool:
    """A scalar a query may compare with (finite when a number)."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, _SCALARS)


def build_query(spec: dict[str, Any] | None, *, keys_only: bool = False) -> Any:
    """A MongoDB filter document for spec (or, with keys_only, the list of field paths)."""
    if not spec:
        return [] if keys_only else {}
    if not isinstance(spec, dict):
        raise FilterError(f"filters must be a mapping, got {type(spec).__name__}")
    if keys_only:
        return [field_path(k) for k in spec]
    query: dict[str, Any] = {}
    for name, value in spec.items():
        path = field_path(name)
        cond = _condition(name, value)
        if cond == {}:  # an open range restricts nothing
            continue
        query[path] = cond
    return query
