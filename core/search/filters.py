"""Search filters from the page's and the CLI's choices: a canonical key per filter spec
(checked), a spec from sidebar selections, and the values the filter widgets offer."""

from __future__ import annotations

import json
from typing import Any

from core.storage import Range, build_query
from core.storage.filters import check_user_filters


def filter_key(filters: dict[str, Any] | None) -> str:
    """A canonical, hashable form of a filter spec (validated: bad specs raise FilterError)."""
    check_user_filters(filters)
    build_query(filters)

    def enc(v: Any) -> Any:
        if isinstance(v, Range):
            return {"min": v.min, "max": v.max}
        if isinstance(v, list | tuple | set | frozenset):
            return sorted(map(str, v))
        return v

    return json.dumps({k: enc(v) for k, v in sorted((filters or {}).items())}, sort_keys=True)


def selection_filters(*, categories=(), colors=(), patterns=(), seasons=(),
                      price: tuple[float, float] | None = None,
                      price_bounds: tuple[float, float] | None = None) -> dict[str, Any]:
    """A filter spec from sidebar choices: empty choices and the full price range add nothing."""
    spec: dict[str, Any] = {}
    for key, chosen in (("category", categories), ("color", colors), ("pattern", patterns),
                        ("season", seasons)):
        if chosen:
            spec[key] = [str(v) for v in chosen]
    if price is not None and tuple(price) != tuple(price_bounds or ()):
        spec["price"] = Range(float(price[0]), float(price[1]))
    return spec


def catalog_facets(repo) -> dict[str, Any]:
    """Values offered by the filter widgets: categories (by size), attribute values, prices."""
    prices = [it.price for sort_desc in (False, True) for it in repo.find_items(
        {"price": Range(0, None)}, limit=1, sort="price", descending=sort_desc)]
    return {"category": list(repo.counts_by("category")),
            **{key: [str(v) for v in repo.distinct_values(key)]
               for key in ("color", "pattern", "season")},
            "price": (float(prices[0]), float(prices[1])) if len(prices) == 2 else None}
