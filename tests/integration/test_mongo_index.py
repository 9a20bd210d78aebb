"""INDEX_KIND=mongo and auto on the embedded server: detection, fallback with its log line,
the copy of the vectors, the `index` CLI, and results equal to the in-process index."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import numpy as np
import pytest

from core.cli import main
from core.index import IndexManager
from core.index import mongo as mongo_index
from core.index.mongo import MongoVectorIndex, index_definition
from core.search.pipeline import SearchEngine
from core.storage import Range
from core.storage.search_index import (
    VECTOR_PATH,
    ServerIndex,
    backfill,
    copy_state,
    search_collection,
)
from tests.helpers import attribute_vectors

# What nx-27017 0.8.1 answers to a $vectorSearch stage (it lists no search indexes).
NO_SEARCH = "server has no $vectorSearch: OperationFailure: Aggregation stage '$vectorSearch' " \
            "not supported"


@pytest.fixture
def catalog(repo, small_catalog):
    items = small_catalog(12)
    repo.put_vectors("m1", [it.sku for it in items], attribute_vectors(items, dim=16))
    return items


def _records(caplog):
    return [r for r in caplog.records if r.name == "core.index.mongo"]


def test_auto_falls_back_to_in_process_with_one_info_line(repo, settings, catalog, caplog):
    caplog.set_level(logging.INFO, logger="core.index.mongo")
    manager = IndexManager(settings)
    assert manager.kind == "auto"
    assert manager.server(repo, "m1") is None and manager.server(repo, "m1") is None
    lines = _records(caplog)
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert lines[0].getMessage() == f"vector index: in-process ({NO_SEARCH})"
    found = mongo_index.detect(repo, "m1")
    assert not found.usable and not found.supported and found.reason == NO_SEARCH
    assert found.expires == float("inf")  # a server without search is not asked again


def test_explicit_mongo_warns_and_doctor_says_so(cli_settings, repo, catalog, caplog,
                                                 monkeypatch, capsys):
    caplog.set_level(logging.INFO, logger="core.index.mongo")
    manager = IndexManager(cli_settings.with_(index_kind="mongo"))
    assert manager.server(repo, "m1") is None
    (line,) = _records(caplog)
    assert line.levelno == logging.WARNING
    assert line.getMessage() == ("INDEX_KIND=mongo, but searches use the in-process index: "
                                 + NO_SEARCH)
    monkeypatch.setenv("INDEX_KIND", "mongo")
    monkeypatch.setenv("BACKBONE", "m1")
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["vector_index"] == f"vector index: in-process ({NO_SEARCH})"
    assert main(["doctor"]) == 0
    assert f"  vector index: in-process ({NO_SEARCH})" in capsys.readouterr().out.splitlines()


SPECS = [None, {"category": "tee"}, {"color": ["red", "navy"], "pattern": "solid"},
         {"season": "summer", "price": Range(22, 29)},
         {"category": ["tee", "dress"], "color": ["red", "green", "navy"],
          "pattern": ["solid"], "season": "summer", "price": Range(20.0, 30.0)}]


def _results(outcome):
    return [(r.item.sku, round(r.score, 5)) for r in outcome.results]


@pytest.mark.parametrize("spec", SPECS)
def test_mongo_on_the_embedded_server_gives_the_in_process_results(repo, settings, catalog,
                                                                   spec):
    model = SimpleNamespace(model_id="m1")
    exact = SearchEngine(settings.with_(index_kind="exact"), embedder=model)
    served = SearchEngine(settings.with_(index_kind="mongo"), embedder=model)
    for sku in ("T000", "T007"):
        want = exact.more_like_this(repo, sku, k=12, filters=spec)
        got = served.more_like_this(repo, sku, k=12, filters=spec)
        assert _results(got) == _results(want) and got.candidates == want.candidates
    assert served.indexes.server(repo, "m1") is None


def test_backfill_writes_the_copy_in_batches_idempotently(repo, catalog):
    steps = []
    assert backfill(repo, "m1", batch=5, progress=lambda d, t: steps.append((d, t))) == 12
    assert steps == [(5, 12), (10, 12), (12, 12)]
    col = search_collection(repo)
    doc = col.find_one({"_id": "m1|T003"})
    item = catalog[3]
    assert doc["sku"] == "T003" and doc["model_id"] == "m1" and doc["category"] == item.category
    assert doc["attrs"] == item.attrs and doc["price"] == item.price
    assert doc["split"] == item.split and doc["source"] == "test"
    skus, matrix = repo.vectors("m1")
    stored = matrix[skus.index("T003")]
    assert np.allclose(doc[VECTOR_PATH], stored / np.linalg.norm(stored), atol=1e-6)
    assert copy_state(repo, "m1").current

    assert backfill(repo, "m1") == 12 and col.count_documents({}) == 12  # nothing twice
    repo.delete_vectors("m1", ["T011"])
    stale = copy_state(repo, "m1")
    assert not stale.current and "older than the catalog or the vectors" in stale.reason
    assert backfill(repo, "m1") == 11 and col.find_one({"_id": "m1|T011"}) is None
    assert copy_state(repo, "m1").current


def test_index_cli_refuses_on_a_server_without_search(cli_settings, repo, catalog, capsys,
                                                      monkeypatch):
    monkeypatch.setenv("BACKBONE", "m1")
    want = ("error: this MongoDB server has no search support: OperationFailure: Aggregation "
            "stage '$vectorSearch' not supported; the app uses the in-process index")
    for verb in (["status"], ["create", "--backfill"], ["drop"]):
        assert main(["index", *verb]) == 1
        assert want in capsys.readouterr().err.splitlines()
    assert main(["index", "status", "--json"]) == 1
    captured = capsys.readouterr()
    state = json.loads(captured.out)
    assert state["search_supported"] is False and state["index"] is None
    assert state["model_id"] == "m1" and state["model_dimensions"] == 16
    assert state["searches_use"] == f"vector index: in-process ({NO_SEARCH})"
    assert want in captured.err
    # nothing was written (asking may leave an empty collection behind on this server)
    assert search_collection(repo).count_documents({}) == 0
    assert repo.get_doc("meta", "search_copy|m1") is None


class EmulatedVectorSearch:
    """What an Atlas cluster would answer, emulated on the embedded server (no Atlas cluster
    can be reached here): ``$vectorSearch`` runs its pre-filter as a find() on the real copy
    collection, ranks by cosine, scores (1 + cos) / 2, and returns the projected fields."""

    def __init__(self, collection):
        self.collection, self.pipelines = collection, []

    def aggregate(self, pipeline):
        self.pipelines.append(pipeline)
        search, project = pipeline[0]["$vectorSearch"], pipeline[1]["$project"]
        assert search["limit"] <= search["numCandidates"] <= 10_000
        q = np.asarray(search["queryVector"])
        docs = list(self.collection.find(search["filter"]))
        scored = [(float(np.dot(q, d[search["path"]])), d) for d in docs]
        scored.sort(key=lambda sd: -sd[0])
        return iter({"sku": d["sku"], "score": (1 + cos) / 2} for cos, d in
                    scored[: search["limit"]] if project["sku"])

    def find_one(self, query, projection=None):
        return self.collection.find_one(query, projection)


def test_server_path_gives_the_in_process_results(repo, settings, catalog, monkeypatch):
    backfill(repo, "m1")
    emulated = EmulatedVectorSearch(search_collection(repo))
    ready = {"name": "fashion_vectors", "type": "vectorSearch", "status": "READY",
             "queryable": True, "latestDefinition": index_definition(16)}
    monkeypatch.setattr(mongo_index, "inspect_server",
                        lambda *_: ServerIndex(True, index=ready))
    monkeypatch.setattr(mongo_index, "search_collection", lambda _repo: emulated)
    model = SimpleNamespace(model_id="m1")
    exact = SearchEngine(settings.with_(index_kind="exact"), embedder=model)
    for kind in ("auto", "mongo"):
        served = SearchEngine(settings.with_(index_kind=kind), embedder=model)
        assert isinstance(served.indexes.server(repo, "m1"), MongoVectorIndex)
        for spec in SPECS:
            for sku in ("T001", "T010"):
                want = exact.more_like_this(repo, sku, k=12, filters=spec)
                got = served.more_like_this(repo, sku, k=12, filters=spec)
                assert [s for s, _ in _results(got)] == [s for s, _ in _results(want)]
                assert [r.score for r in got.results] == \
                    pytest.approx([r.score for r in want.results], abs=1e-5)
                assert got.candidates == want.candidates
    assert len(emulated.pipelines) == 2 * len(SPECS) * 2
    assert served._subsets == {}  # filters went to $vectorSearch, not to an item query
    repo.bump_catalog_version()  # the copy is now behind the catalog: in-process again
    assert served.indexes.server(repo, "m1") is None
