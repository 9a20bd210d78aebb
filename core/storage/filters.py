"""Turn a user-facing filter spec into a MongoDB query, refusing operator injection.

Spec: ``{field: value}`` where value is a scalar (equality), a list of scalars (``$in``) or a
:class:`Range`. Field names are plain identifiers (dotted paths allowed); attribute
shorthands (``color``) map to ``attrs.color`` and ``sku`` to ``_id``. Nothing a user types
can become an operator: dict values and ``$``-keys are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.storage.records import ATTR_KEYS

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SCALARS = (str, int, float, bool)


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


def _condition(name: str, value: Any) -> Any:
    if isinstance(value, Range):
        cond = {}
        for op, v in (("$gte", value.min), ("$lte", value.max)):
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise FilterError(f"range bound for {name!r} must be a number, got {v!r}")
                cond[op] = v
        return cond
    if isinstance(value, list | tuple | set | frozenset):
        values = list(value)
        bad = [v for v in values if not isinstance(v, _SCALARS)]
        if bad:
            raise FilterError(f"filter {name!r} accepts plain values only, got {bad[0]!r}")
        return {"$in": values}
    if value is None or isinstance(value, _SCALARS):
        return value
    raise FilterError(f"filter {name!r} accepts plain values only, got {type(value).__name__}")


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
