import pytest

from core.storage.filters import (
    NUMERIC_FIELDS,
    USER_FIELDS,
    FilterError,
    Range,
    build_query,
    check_user_filters,
)


def test_scalars_lists_and_ranges():
    q = build_query({"category": "dress", "color": ["red", "navy"], "price": Range(10, 50),
                     "sku": "D1"})
    assert q == {"category": "dress", "attrs.color": {"$in": ["red", "navy"]},
                 "price": {"$gte": 10, "$lte": 50}, "_id": "D1"}


def test_open_range_and_empty_spec():
    assert build_query({"price": Range()}) == {}
    assert build_query({"price": Range(max=20)}) == {"price": {"$lte": 20}}
    assert build_query(None) == {}


@pytest.mark.parametrize("spec", [
    {"color": {"$gt": ""}},
    {"$where": "1"},
    {"attrs.$color": "red"},
    {"color": ["red", {"$ne": 1}]},
    {"price": Range("0", 5)},
    {"a b": 1},
    {"color": object()},
])
def test_operator_injection_is_refused(spec):
    with pytest.raises(FilterError):
        build_query(spec)


@pytest.mark.parametrize("spec", [
    {"price": float("nan")},
    {"price": Range(float("inf"), None)},
    {"price": Range(None, float("-inf"))},
    {"price": [1.0, float("nan")]},
])
def test_non_finite_numbers_are_refused(spec):
    with pytest.raises(FilterError, match="finite|plain values"):
        build_query(spec)


@pytest.mark.parametrize("name", ["vectors.studio_encoder", "_id", "hash", "image_path",
                                  "attrs.color", "tags"])
def test_only_catalog_fields_are_user_filters(name):
    with pytest.raises(FilterError, match=rf"cannot filter by '{name}'; filter fields: category"):
        check_user_filters({name: "x"})


def test_every_user_field_builds_a_query():
    spec = {name: Range(1, 2) if name in NUMERIC_FIELDS else "x" for name in USER_FIELDS}
    check_user_filters(spec)
    assert len(build_query(spec)) == len(USER_FIELDS)
