"""INDEX_KIND=mongo and auto on the embedded server: detection, fallback with its log line,
the copy of the vectors, the `index` CLI, and results equal to the in-process index."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import numpy as np
import pytest
from pymongo.operations import SearchIndexModel

from core.cli import main
from core.index import IndexManager
from core.index import mongo as mongo_index
from core.index.mongo import MongoVectorIndex, index_definition
from core.search.pipeline import SearchEngine
from core.storage import Range
from core.storage.search_index import (
    VECTOR_PATH,
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


def test_the_home_page_caption_says_this_server_has_no_vector_search(cli_settings, repo,
                                                                     catalog):
    from core.catalog_info import catalog_summary

    summary = catalog_summary(repo, cli_settings.with_(backbone="m1"))
    assert summary["vector_index"] == f"vector index: in-process ({NO_SEARCH})"
    assert summary["vector_index_caption"] == (
        "Similar items are found in this app's memory: this MongoDB server offers no vector "
        "search.")
    exact = catalog_summary(repo, cli_settings.with_(backbone="m1", index_kind="exact"))
    assert "(set by INDEX_KIND)" in exact["vector_index_caption"]


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


class AtlasLike:
    """What an Atlas cluster would answer, emulated over the real copy collection on the
    embedded server (no Atlas cluster can be reached here): search indexes are listed,
    created (PENDING until ``ready()``) and dropped; ``$vectorSearch`` runs its pre-filter as a
    find() on the real collection, ranks by cosine and scores (1 + cos) / 2, as Atlas
    documents for a cosine index. Everything else goes to the real collection."""

    def __init__(self, collection):
        self.real, self.indexes, self.created, self.pipelines = collection, {}, [], []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def ready(self):
        for index in self.indexes.values():
            index.update(status="READY", queryable=True)

    def list_search_indexes(self, name=None):
        return iter([dict(ix) for n, ix in self.indexes.items() if name in (None, n)])

    def create_search_index(self, model):
        doc = dict(model.document)
        self.created.append(doc)
        self.indexes[doc["name"]] = {"name": doc["name"], "type": doc["type"],
                                     "status": "PENDING", "queryable": False,
                                     "latestDefinition": doc["definition"]}
        return doc["name"]

    def drop_search_index(self, name):
        self.indexes.pop(name, None)

    def aggregate(self, pipeline):
        if "$vectorSearch" not in pipeline[0]:
            return self.real.aggregate(pipeline)
        self.pipelines.append(pipeline)
        search, project = pipeline[0]["$vectorSearch"], pipeline[1]["$project"]
        assert search["limit"] <= search["numCandidates"] <= 10_000
        if search["index"] not in self.indexes:
            return iter([])  # Atlas answers a missing index with no results
        q = np.asarray(search["queryVector"])
        docs = list(self.real.find(search.get("filter", {})))
        scored = sorted(((float(np.dot(q, d[search["path"]])), d) for d in docs),
                        key=lambda sd: -sd[0])
        return iter({**{k: d[k] for k, keep in project.items() if keep == 1},
                     **({"score": (1 + cos) / 2} if "score" in project else {})}
                    for cos, d in scored[: search["limit"]])


@pytest.fixture
def atlas(repo, monkeypatch):
    """The search copy collection answers like Atlas for this test."""
    import core.storage.search_index as storage

    stand_in = AtlasLike(storage.search_collection(repo))
    monkeypatch.setattr(storage, "search_collection", lambda _repo: stand_in)
    monkeypatch.setattr(mongo_index, "search_collection", lambda _repo: stand_in)
    return stand_in


def test_index_commands_on_an_atlas_like_server(cli_settings, repo, catalog, atlas, capsys,
                                                monkeypatch):
    monkeypatch.setenv("BACKBONE", "m1")
    assert main(["index", "status", "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["search_supported"] and state["index"] is None
    assert state["searches_use"] == ("vector index: in-process (no vector search index "
                                     f"'fashion_vectors' on {repo.db.name}.search_vectors: run "
                                     "`python -m core index create --backfill`)")
    assert main(["index", "create", "--backfill", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["created"] and created["backfilled"] == 12 and created["copy_current"]
    assert atlas.created == [{"name": "fashion_vectors", "type": "vectorSearch",
                              "definition": index_definition(16)}]
    assert main(["index", "status", "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["index"]["status"] == "PENDING" and not state["index"]["queryable"]
    assert state["copy"]["documents"] == 12 and state["copy"]["current"]
    assert "'fashion_vectors' is PENDING, not queryable yet" in state["searches_use"]

    atlas.ready()
    assert main(["index", "create"]) == 0  # already there: nothing created twice
    assert "already there" in capsys.readouterr().out and len(atlas.created) == 1
    assert main(["index", "status"]) == 0
    assert ("searches : vector index: MongoDB $vectorSearch (index 'fashion_vectors', "
            "INDEX_KIND=auto)") in capsys.readouterr().out.splitlines()
    assert main(["index", "drop"]) == 0
    assert "dropped; copy: 12 documents deleted" in capsys.readouterr().out
    assert atlas.indexes == {} and atlas.real.count_documents({}) == 0


def test_server_path_gives_the_in_process_results(repo, settings, catalog, atlas, caplog):
    caplog.set_level(logging.INFO, logger="core.index.mongo")
    backfill(repo, "m1")
    atlas.create_search_index(SearchIndexModel(index_definition(16), name="fashion_vectors",
                                               type="vectorSearch"))
    atlas.ready()
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
    probes = [p for p in atlas.pipelines if "sku" not in p[1]["$project"]]
    assert len(probes) == 1  # asked once for the client, not on every query
    assert len(atlas.pipelines) - len(probes) == 2 * len(SPECS) * 2
    assert served._subsets == {}  # filters went to $vectorSearch, not to an item query
    assert [r.getMessage() for r in _records(caplog)] == [
        "vector index: MongoDB $vectorSearch index 'fashion_vectors' for model 'm1'"]
    repo.bump_catalog_version()  # the copy is now behind the catalog: in-process again
    assert served.indexes.server(repo, "m1") is None
    assert "older than the catalog or the vectors: run `python -m core index create " \
           "--backfill`" in _records(caplog)[-1].getMessage()


def test_search_cli_takes_index_mongo(cli_settings, repo, catalog, capsys, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="core.index.mongo")
    monkeypatch.setenv("BACKBONE", "m1")
    args = ["search", "--sku", "T002", "--k", "4", "--filter", "color=red,navy", "--json"]
    assert main([*args, "--index", "exact"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main([*args, "--index", "mongo"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got == want and got and all(r["attrs"]["color"] in ("red", "navy") for r in got)
    assert [r.levelno for r in _records(caplog)] == [logging.WARNING]
