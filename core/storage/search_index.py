"""The copy of a model's vectors that a MongoDB vector search index reads, and that index.

``$vectorSearch`` reads a vector stored as an array of numbers (or a BSON float32 vector),
and its pre-filter sees only fields of the same document. The project stores vectors as
float32 ``Binary`` (subtype 0) in ``vectors`` and item fields in the item collection, so the
server searches a copy: collection ``search_vectors``, one document per (model, sku) holding
the normalised vector as an array of doubles beside the item fields people filter by. The
copy is written in batches by :func:`backfill` and is only used while its stamp (catalog
version and vectors version at the time of the copy) matches the catalog.

Server answers (measured): nx-27017 0.8.1 lists no search indexes and fails ``$vectorSearch``
with "Aggregation stage '$vectorSearch' not supported"; mongod without a search process fails
both with code 31082 SearchNotEnabled. Any OperationFailure counts as "no search support"
(the project never branches on error codes other than 11000).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymongo import ASCENDING, UpdateOne
from pymongo.errors import OperationFailure
from pymongo.operations import SearchIndexModel

from core.storage.records import ATTR_KEYS, Item

SEARCH_COLLECTION = "search_vectors"
VECTOR_PATH = "embedding"
# Item fields copied beside the vector (paths as in the item collection; the sku is "sku").
COPY_FIELDS = ("category", *(f"attrs.{k}" for k in ATTR_KEYS), "price", "brand", "gender",
               "store_id", "split", "source", "width", "height")
BATCH = 500


class SearchUnsupported(RuntimeError):
    """The server answers no search-index command or ``$vectorSearch`` (message: its answer)."""


@dataclass
class ServerIndex:
    """What the server says about a vector search index."""

    supported: bool  # the server has search (``$vectorSearch`` answers)
    reason: str = ""  # the server's error (no search; or the listed index fails a query)
    index: dict[str, Any] | None = None  # the listed index (name, status, queryable, ...)

    @property
    def dimensions(self) -> int | None:
        for f in _definition(self.index).get("fields", []):
            if f.get("type") == "vector":
                return int(f.get("numDimensions", 0))
        return None


@dataclass
class CopyState:
    """The stamp of a model's copy: (catalog, vectors) versions it was made at."""

    model_id: str
    documents: int = 0
    stamp: dict[str, Any] = field(default_factory=dict)
    current: bool = False
    reason: str = ""


def search_collection(repo):
    return repo.db[SEARCH_COLLECTION]


def server_error(exc: OperationFailure) -> str:
    """An OperationFailure as the server put it: 'codeName (code): message'."""
    details = exc.details or {}
    name = details.get("codeName") or "OperationFailure"
    code = f" ({exc.code})" if exc.code is not None else ""
    message = str(details.get("errmsg") or exc).split(", full error:")[0]
    return f"{name}{code}: {message}"


def inspect_server(collection, index_name: str, dims: int) -> ServerIndex:
    """List the named search index, then run a ``$vectorSearch`` with limit 1 (a server that
    lists nothing may still lack the stage: the embedded server answers the list)."""
    try:
        listed = list(collection.list_search_indexes(index_name))
    except OperationFailure as exc:
        return ServerIndex(False, server_error(exc))
    state = ServerIndex(True, index=listed[0] if listed else None)
    probe = [1.0] + [0.0] * (max(int(state.dimensions or dims), 1) - 1)
    try:
        list(collection.aggregate([
            {"$vectorSearch": {"index": index_name, "path": VECTOR_PATH, "queryVector": probe,
                               "numCandidates": 1, "limit": 1}},
            {"$project": {"_id": 1}}]))
    except OperationFailure as exc:
        if state.index is None:
            return ServerIndex(False, server_error(exc))
        state.reason = f"$vectorSearch on index {index_name!r} fails: {server_error(exc)}"
    return state


def create_index(collection, index_name: str, definition: dict[str, Any]) -> str:
    """Ask the server to build the index (in the background); the collection must exist."""
    collection.create_index([("model_id", ASCENDING)])
    model = SearchIndexModel(definition=definition, name=index_name, type="vectorSearch")
    try:
        return collection.create_search_index(model)
    except OperationFailure as exc:
        raise SearchUnsupported(server_error(exc)) from None


def drop_index(collection, index_name: str) -> None:
    try:
        collection.drop_search_index(index_name)
    except OperationFailure as exc:
        raise SearchUnsupported(server_error(exc)) from None


def wait_queryable(collection, index_name: str, timeout_s: float,
                   poll_s: float = 5.0) -> dict[str, Any] | None:
    """The listed index once queryable, or its last listing when ``timeout_s`` runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        listed = list(collection.list_search_indexes(index_name))
        index = listed[0] if listed else None
        if (index and index.get("queryable")) or time.monotonic() >= deadline:
            return index
        time.sleep(poll_s)


def index_summary(index: dict[str, Any] | None) -> dict[str, Any] | None:
    """The plain facts of a listed index (name, type, status, queryable, definition)."""
    if index is None:
        return None
    return {"name": index.get("name"), "type": index.get("type"),
            "status": index.get("status"), "queryable": bool(index.get("queryable")),
            "definition": _definition(index)}


def _definition(index: dict[str, Any] | None) -> dict[str, Any]:
    if not index:
        return {}
    return dict(index.get("latestDefinition") or index.get("definition") or {})


# -- the copy ------------------------------------------------------------------------------
def copy_id(model_id: str, sku: str) -> str:
    return f"{model_id}|{sku}"


def _stamp_id(model_id: str) -> str:
    return f"search_copy|{model_id}"


def copy_document(item: Item, model_id: str, vector: np.ndarray) -> dict[str, Any]:
    """The copy of one item's vector: unit-length array of doubles + the filter fields."""
    v = np.asarray(vector, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(v))
    doc: dict[str, Any] = {"model_id": model_id, "sku": item.sku,
                           VECTOR_PATH: (v / norm if norm > 0 else v).tolist(),
                           "attrs": {k: item.attrs[k] for k in ATTR_KEYS if k in item.attrs}}
    for path in COPY_FIELDS:
        if not path.startswith("attrs."):
            doc[path] = getattr(item, path)
    return doc


def vector_dim(repo, model_id: str) -> int | None:
    """The dimension of a model's stored vectors, None without any."""
    doc = repo.vectors_col.find_one({"model_id": model_id}, {"dim": 1})
    return int(doc["dim"]) if doc else None


def backfill(repo, model_id: str, *, batch: int = BATCH,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Write the copy of every vector of ``model_id`` that has an item, in batches; delete
    copies of vectors or items that are gone; stamp it. Re-running rewrites the same
    documents (idempotent). Returns how many documents the copy holds."""
    stamp = {"catalog": repo.catalog_version(), "vectors": repo.vectors_version(model_id)}
    col = search_collection(repo)
    col.create_index([("model_id", ASCENDING)])
    run = uuid.uuid4().hex
    total, done, written, last = repo.vector_count(model_id), 0, 0, ""
    dim = 0
    while True:
        page = list(repo.vector_page(model_id, last, {"sku": 1, "v": 1, "dim": 1}, batch))
        if not page:
            break
        items = {it.sku: it for it in repo.get_items([d["sku"] for d in page])}
        ops = []
        for d in page:
            if d["sku"] in items:
                vec = np.frombuffer(d["v"], dtype=np.float32, count=int(d["dim"]))
                doc = {**copy_document(items[d["sku"]], model_id, vec), "run": run}
                ops.append(UpdateOne({"_id": copy_id(model_id, d["sku"])}, {"$set": doc},
                                     upsert=True))
                dim = int(d["dim"])
        if ops:
            col.bulk_write(ops, ordered=False)
        written += len(ops)
        done += len(page)
        last = page[-1]["sku"]
        if progress:
            progress(min(done, total), total)
    col.delete_many({"model_id": model_id, "run": {"$ne": run}})
    repo.put_docs("meta", [{"_id": _stamp_id(model_id), **stamp, "count": written,
                            "dim": dim, "written_at": time.time()}])
    return written


def copy_state(repo, model_id: str) -> CopyState:
    """Whether the copy of ``model_id`` matches the catalog (and why not)."""
    stamp = repo.get_doc("meta", _stamp_id(model_id)) or {}
    state = CopyState(model_id, search_collection(repo).count_documents({"model_id": model_id}),
                      {k: v for k, v in stamp.items() if k != "_id"})
    if not stamp:
        state.reason = f"no $vectorSearch copy of the vectors of model {model_id!r} yet"
    elif (stamp.get("catalog"), stamp.get("vectors")) != (repo.catalog_version(),
                                                          repo.vectors_version(model_id)):
        state.reason = (f"the $vectorSearch copy of the vectors of model {model_id!r} is "
                        "older than the catalog or the vectors")
    elif stamp.get("count") != state.documents:
        state.reason = (f"the $vectorSearch copy of the vectors of model {model_id!r} holds "
                        f"{state.documents} documents, {stamp.get('count')} were written")
    state.current = not state.reason
    return state


def drop_copy(repo, model_id: str | None = None) -> int:
    """Delete the copy (of one model, or all); returns how many documents went."""
    query = {} if model_id is None else {"model_id": model_id}
    deleted = search_collection(repo).delete_many(query).deleted_count
    stamps = {"_id": _stamp_id(model_id)} if model_id else {"_id": {"$regex": "^search_copy\\|"}}
    repo.meta.delete_many(stamps)
    return deleted
