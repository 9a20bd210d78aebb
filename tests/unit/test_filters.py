import pytest

from core.storage.filters import FilterError, Range, build_query


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
