"""The $vectorSearch pipeline for each filter combination, the index definition, and the
server's answers turned into hits."""

from __future__ import annotations

import numpy as np
import pytest

from core.index import Hit
from core.index.mongo import (
    FILTER_FIELDS,
    MAX_CANDIDATES,
    MongoVectorIndex,
    can_filter,
    cosine,
    index_definition,
    num_candidates,
    search_filter,
    vector_search_pipeline,
)
from core.storage import FilterError, Range
from core.storage.search_index import COPY_FIELDS, VECTOR_PATH

QUERY = np.array([0.6, 0.8, 0.0], dtype=np.float32)
MODEL = {"model_id": {"$eq": "studio_lite"}}


def _stage(filters=None, *, limit=10, model_id="studio_lite", exclude=()):
    pipeline = vector_search_pipeline(QUERY, limit=limit, model_id=model_id, filters=filters,
                                      exclude=exclude)
    assert len(pipeline) == 2
    assert pipeline[1] == {"$project": {"_id": 0, "sku": 1,
                                        "score": {"$meta": "vectorSearchScore"}}}
    return pipeline[0]["$vectorSearch"]


def test_unfiltered_pipeline_carries_the_model_id_only():
    stage = _stage()
    assert list(stage) == ["index", "path", "queryVector", "numCandidates", "limit", "filter"]
    assert stage["index"] == "fashion_vectors" and stage["path"] == VECTOR_PATH == "embedding"
    assert stage["queryVector"] == pytest.approx([0.6, 0.8, 0.0])
    assert all(type(x) is float for x in stage["queryVector"])
    assert stage["numCandidates"] == 100 and stage["limit"] == 10
    assert stage["filter"] == MODEL


def test_category_filter():
    assert _stage({"category": "dress"})["filter"] == {
        "$and": [MODEL, {"category": {"$eq": "dress"}}]}
    assert _stage({"category": ["dress", "tee"]})["filter"] == {
        "$and": [MODEL, {"category": {"$in": ["dress", "tee"]}}]}


def test_colour_and_pattern_filter_use_the_attribute_paths():
    assert _stage({"color": ["red", "navy"], "pattern": "striped"})["filter"] == {
        "$and": [MODEL, {"attrs.color": {"$in": ["red", "navy"]}},
                 {"attrs.pattern": {"$eq": "striped"}}]}


def test_season_filter():
    assert _stage({"season": ["summer"]})["filter"] == {
        "$and": [MODEL, {"attrs.season": {"$in": ["summer"]}}]}


def test_price_range_filter():
    assert _stage({"price": Range(10.0, 49.5)})["filter"] == {
        "$and": [MODEL, {"price": {"$gte": 10.0, "$lte": 49.5}}]}
    assert _stage({"price": Range(None, 30)})["filter"] == {
        "$and": [MODEL, {"price": {"$lte": 30}}]}
    assert _stage({"price": Range()})["filter"] == MODEL  # an open range restricts nothing


def test_model_id_and_sku_filter():
    assert _stage(model_id="studio_encoder+mask")["filter"] == {
        "model_id": {"$eq": "studio_encoder+mask"}}
    assert _stage({"sku": ["A1", "B2"]})["filter"] == {
        "$and": [MODEL, {"sku": {"$in": ["A1", "B2"]}}]}


def test_all_filters_together_and_excluded_skus():
    spec = {"category": ["dress", "skirt"], "color": "red", "pattern": ["solid", "floral"],
            "season": "summer", "price": Range(20, 80)}
    stage = _stage(spec, limit=25, model_id="m2", exclude=["Z9", "A1", "Z9"])
    assert stage["filter"] == {"$and": [
        {"model_id": {"$eq": "m2"}},
        {"category": {"$in": ["dress", "skirt"]}},
        {"attrs.color": {"$eq": "red"}},
        {"attrs.pattern": {"$in": ["solid", "floral"]}},
        {"attrs.season": {"$eq": "summer"}},
        {"price": {"$gte": 20, "$lte": 80}},
        {"sku": {"$nin": ["A1", "Z9"]}},
    ]}
    assert stage["numCandidates"] == 250 and stage["limit"] == 25


def test_filters_cannot_inject_operators():
    with pytest.raises(FilterError):
        search_filter({"color": {"$ne": "red"}}, model_id="m")
    with pytest.raises(FilterError):
        search_filter({"$where": "1"}, model_id="m")
    with pytest.raises(FilterError):
        search_filter({"price": Range(float("nan"), 3)}, model_id="m")


def test_candidates_are_ten_times_the_limit_between_100_and_10000():
    assert [num_candidates(k) for k in (1, 10, 11, 60, 999, 1000, 5000)] == \
        [100, 100, 110, 600, 9990, 10000, 10000]
    capped = _stage(limit=25_000)
    assert capped["limit"] == MAX_CANDIDATES == capped["numCandidates"]
    with pytest.raises(ValueError, match="limit"):
        _stage(limit=0)


def test_index_definition_has_the_vector_and_every_filter_field():
    definition = index_definition(512)
    vector, *filters = definition["fields"]
    assert vector == {"type": "vector", "path": "embedding", "numDimensions": 512,
                      "similarity": "cosine"}
    assert all(f["type"] == "filter" for f in filters)
    paths = [f["path"] for f in filters]
    assert paths[:2] == ["model_id", "sku"] and paths[2:] == list(COPY_FIELDS)
    assert {"category", "attrs.color", "attrs.pattern", "attrs.season", "price"} <= set(paths)
    with pytest.raises(ValueError):
        index_definition(0)


def test_filters_the_copy_can_answer():
    assert can_filter(None) and can_filter({}) and can_filter({"color": "red", "price": 3})
    assert not can_filter({"popularity": Range(1, None)})  # not copied: changes too often
    assert "popularity" not in FILTER_FIELDS and "brand" in FILTER_FIELDS


class RecordingCollection:
    """Stands in for a MongoDB Atlas collection (no Atlas cluster can be reached here): its
    aggregate() records the pipeline and answers with canned ``$vectorSearch`` documents."""

    def __init__(self, docs, stored=None):
        self.docs, self.stored, self.pipelines, self.lookups = docs, stored or {}, [], []

    def aggregate(self, pipeline):
        self.pipelines.append(pipeline)
        return iter(self.docs)

    def find_one(self, query, projection=None):
        self.lookups.append((query, projection))
        return self.stored.get(query["_id"])


def test_server_answers_become_hits_with_cosine_scores():
    col = RecordingCollection([{"sku": "B", "score": 0.75}, {"sku": "A", "score": 1.0},
                               {"sku": "C", "score": 0.5}])
    index = MongoVectorIndex(col, "m1", dim=3)
    hits = index.search(QUERY * 5, 2, filters={"color": "red"}, exclude=["Q"])
    assert hits == [Hit("A", 1.0), Hit("B", 0.5)] and all(isinstance(h, Hit) for h in hits)
    stage = col.pipelines[0][0]["$vectorSearch"]
    assert stage["queryVector"] == pytest.approx([0.6, 0.8, 0.0])  # normalised first
    assert stage["limit"] == 2 and stage["filter"]["$and"][1:] == [
        {"attrs.color": {"$eq": "red"}}, {"sku": {"$nin": ["Q"]}}]
    assert cosine(0.5) == 0.0 and cosine(0.0) == -1.0
    with pytest.raises(ValueError, match="3 dims"):
        index.search(np.ones(4), 2)


def test_stored_vector_is_read_by_copy_id():
    col = RecordingCollection([], stored={"m1|A": {VECTOR_PATH: [0.0, 3.0, 4.0]}})
    index = MongoVectorIndex(col, "m1", dim=3)
    assert index.vector("A") == pytest.approx([0.0, 0.6, 0.8])
    assert index.vector("B") is None
    assert col.lookups[0] == ({"_id": "m1|A"}, {VECTOR_PATH: 1})


class AnsweringCollection:
    """A collection whose search-index listing and aggregate answer as given (a list, or an
    exception to raise)."""

    def __init__(self, listed, aggregated):
        self.listed, self.aggregated, self.pipelines = listed, aggregated, []

    def _answer(self, value):
        if isinstance(value, Exception):
            raise value
        return iter(value)

    def list_search_indexes(self, name=None):
        return self._answer(self.listed)

    def aggregate(self, pipeline):
        self.pipelines.append(pipeline)
        return self._answer(self.aggregated)


def test_what_servers_answer_is_read_as_search_support():
    from pymongo.errors import OperationFailure

    from core.storage.search_index import inspect_server

    # mongod without a search process (MongoDB's documented answer)
    not_enabled = OperationFailure(
        "Using $vectorSearch requires additional configuration.", 31082,
        {"ok": 0, "errmsg": "Using $vectorSearch requires additional configuration.",
         "code": 31082, "codeName": "SearchNotEnabled"})
    state = inspect_server(AnsweringCollection(not_enabled, []), "fashion_vectors", 8)
    assert not state.supported and state.reason == (
        "SearchNotEnabled (31082): Using $vectorSearch requires additional configuration.")
    # nx-27017: lists nothing, refuses the stage
    refused = OperationFailure("Aggregation stage '$vectorSearch' not supported")
    col = AnsweringCollection([], refused)
    state = inspect_server(col, "fashion_vectors", 8)
    assert not state.supported and state.index is None
    assert state.reason == "OperationFailure: Aggregation stage '$vectorSearch' not supported"
    probe = col.pipelines[0][0]["$vectorSearch"]
    assert probe["limit"] == 1 and probe["queryVector"] == [1.0] + [0.0] * 7
    # Atlas without the index: an empty answer
    state = inspect_server(AnsweringCollection([], []), "fashion_vectors", 8)
    assert state.supported and state.index is None and state.reason == ""
    # Atlas with it: probed with the index's own dimension
    listed = {"name": "fashion_vectors", "status": "READY", "queryable": True,
              "latestDefinition": index_definition(4)}
    col = AnsweringCollection([listed], [])
    state = inspect_server(col, "fashion_vectors", 8)
    assert state.supported and state.dimensions == 4 and state.index["status"] == "READY"
    assert len(col.pipelines[0][0]["$vectorSearch"]["queryVector"]) == 4
    # a listed index that fails the query: search is there, this index cannot serve
    state = inspect_server(AnsweringCollection([listed], refused), "fashion_vectors", 8)
    assert state.supported and "fails: OperationFailure" in state.reason
