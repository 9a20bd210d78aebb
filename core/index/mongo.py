"""MongoDB vector search (``$vectorSearch``) as the index: INDEX_KIND=mongo, or auto when the
server has a queryable index over a current copy of the model's vectors (docs/ATLAS.md).

The pipeline and the index definition are pure functions of their inputs. Whether the server
can be used is asked once per client and collection (a server with search is asked again
after RECHECK_S: its index may be built or dropped meanwhile); when it cannot, searches run on
the in-process index and one log line says why.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.index.base import Hit, normalise
from core.storage.filters import USER_FIELDS, build_query
from core.storage.search_index import (
    COPY_FIELDS,
    SEARCH_COLLECTION,
    VECTOR_PATH,
    copy_id,
    copy_state,
    inspect_server,
    search_collection,
    vector_dim,
)

log = logging.getLogger(__name__)

INDEX_NAME = "fashion_vectors"
MAX_CANDIDATES = 10_000  # the server's ceiling for numCandidates (and so for limit)
RECHECK_S = 60.0
# Filters the copy can answer (popularity changes without a catalog version: not copied).
FILTER_FIELDS = tuple(f for f in USER_FIELDS if f != "popularity")
COMMAND = "python -m core index create --backfill"


def num_candidates(limit: int) -> int:
    """Candidates the server scans for ``limit`` results: 10x, at least 100, at most 10,000."""
    return min(max(10 * int(limit), 100), MAX_CANDIDATES)


def can_filter(filters: dict[str, Any] | None) -> bool:
    """Whether the copy holds every field ``filters`` names."""
    return all(name in FILTER_FIELDS for name in filters or {})


def search_filter(filters: dict[str, Any] | None, *, model_id: str,
                  exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The ``$vectorSearch`` pre-filter for a filter spec (the same spec the item queries
    take): the model id, each field as $eq / $in / $gte+$lte, excluded skus as $nin."""
    clauses: list[dict[str, Any]] = [{"model_id": {"$eq": model_id}}]
    for path, cond in build_query(filters).items():
        path = "sku" if path == "_id" else path
        clauses.append({path: cond if isinstance(cond, dict) else {"$eq": cond}})
    banned = sorted(set(map(str, exclude)))
    if banned:
        clauses.append({"sku": {"$nin": banned}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def vector_search_pipeline(query: np.ndarray | list[float], *, limit: int, model_id: str,
                           filters: dict[str, Any] | None = None, exclude: Iterable[str] = (),
                           index: str = INDEX_NAME) -> list[dict[str, Any]]:
    """``$vectorSearch`` (at most MAX_CANDIDATES results) then the sku and its score."""
    if int(limit) < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    limit = min(int(limit), MAX_CANDIDATES)
    stage = {"index": index, "path": VECTOR_PATH,
             "queryVector": [float(x) for x in np.ravel(query)],
             "numCandidates": num_candidates(limit), "limit": limit,
             "filter": search_filter(filters, model_id=model_id, exclude=exclude)}
    return [{"$vectorSearch": stage},
            {"$project": {"_id": 0, "sku": 1, "score": {"$meta": "vectorSearchScore"}}}]


def index_definition(dims: int) -> dict[str, Any]:
    """The vector search index over the copy: cosine on the vector, every filter field."""
    if int(dims) < 1:
        raise ValueError(f"numDimensions must be at least 1, got {dims}")
    return {"fields": [{"type": "vector", "path": VECTOR_PATH, "numDimensions": int(dims),
                        "similarity": "cosine"},
                       *({"type": "filter", "path": p} for p in ("model_id", "sku",
                                                                  *COPY_FIELDS))]}


def cosine(score: float) -> float:
    """The cosine similarity behind a ``vectorSearchScore`` (cosine index: (1 + cos) / 2)."""
    return 2.0 * float(score) - 1.0


class MongoVectorIndex:
    """Top-k by the server's ``$vectorSearch`` over the copy of one model's vectors; hits
    carry cosine similarities, like the in-process indexes'."""

    kind = "mongo"

    def __init__(self, collection, model_id: str, dim: int, index_name: str = INDEX_NAME):
        self.collection, self.model_id = collection, model_id
        self.dim, self.index_name = int(dim), index_name

    def __repr__(self) -> str:
        return f"MongoVectorIndex(model={self.model_id!r}, d={self.dim}, index={self.index_name})"

    def search(self, query: np.ndarray, k: int, *, filters: dict[str, Any] | None = None,
               exclude: Iterable[str] = ()) -> list[Hit]:
        """The best ``k`` hits for one query among the items ``filters`` allow."""
        q = normalise(query)
        if q.shape != (1, self.dim):
            raise ValueError(f"expected one query of {self.dim} dims, got shape {q.shape}")
        pipeline = vector_search_pipeline(q[0], limit=k, model_id=self.model_id,
                                          filters=filters, exclude=exclude,
                                          index=self.index_name)
        hits = [Hit(str(d["sku"]), cosine(d["score"])) for d in self.collection.aggregate(pipeline)]
        return sorted(hits, key=lambda h: -h.score)[:k]

    def vector(self, sku: str) -> np.ndarray | None:
        """The stored (normalised) vector of a sku, None when it has none."""
        doc = self.collection.find_one({"_id": copy_id(self.model_id, str(sku))},
                                       {VECTOR_PATH: 1})
        return None if doc is None else normalise(np.asarray(doc[VECTOR_PATH]))[0]


@dataclass(frozen=True)
class Detection:
    """Whether the server's vector search index can serve a model (and if not, why)."""

    usable: bool
    reason: str = ""
    supported: bool = False  # the server has $vectorSearch at all
    dim: int = 0
    expires: float = float("inf")  # monotonic time to ask again; a server without search: never


_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> {key: Detection}
_logged: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> {key: reason}
_lock = threading.Lock()


def detect(repo, model_id: str, index_name: str = INDEX_NAME) -> Detection:
    """Ask the server (cached per client, database, collection, index and model)."""
    client = repo.conn.client
    key = (repo.db.name, index_name, model_id)
    with _lock:
        hit = _cache.get(client, {}).get(key)
    if hit is not None and hit.expires > time.monotonic():
        return hit
    found = _ask(repo, model_id, index_name)
    with _lock:
        _cache.setdefault(client, {})[key] = found
    return found


def _ask(repo, model_id: str, index_name: str) -> Detection:
    dims = vector_dim(repo, model_id)
    server = inspect_server(search_collection(repo), index_name, dims or 1)
    where = f"{repo.db.name}.{SEARCH_COLLECTION}"
    if not server.supported:
        return Detection(False, f"server has no $vectorSearch: {server.reason}")
    later = time.monotonic() + RECHECK_S
    if dims is None:
        return Detection(False, f"no vectors of model {model_id!r} yet", True, expires=later)
    if server.index is None:
        return Detection(False, f"no vector search index {index_name!r} on {where}: run "
                         f"`{COMMAND}`", True, expires=later)
    if not server.index.get("queryable"):
        return Detection(False, f"vector search index {index_name!r} is "
                         f"{server.index.get('status', 'not ready')}, not queryable yet",
                         True, expires=later)
    if server.dimensions != dims:
        return Detection(False, f"vector search index {index_name!r} has {server.dimensions} "
                         f"dimensions, model {model_id!r} {dims}: run `python -m core index "
                         f"drop` then `{COMMAND}`", True, expires=later)
    if server.reason:
        return Detection(False, server.reason, True, expires=later)
    return Detection(True, supported=True, dim=dims, expires=later)  # it may be dropped


def in_process_reason(repo, model_id: str) -> tuple[str, int]:
    """(why searches of ``model_id`` cannot use the server's index, "" when they can; the
    model's dimension)."""
    found = detect(repo, model_id)
    if not found.usable:
        return found.reason, 0
    state = copy_state(repo, model_id)
    return ("" if state.current else f"{state.reason}: run `{COMMAND}`"), found.dim


def server_index(repo, model_id: str, *, explicit: bool = False) -> MongoVectorIndex | None:
    """The server's index of ``model_id`` when it can serve searches, else None, with one
    log line per reason (a warning when INDEX_KIND=mongo asked for it)."""
    reason, dim = in_process_reason(repo, model_id)
    _log_once(repo, model_id, reason, explicit)
    if reason:
        return None
    return MongoVectorIndex(search_collection(repo), model_id, dim)


@dataclass(frozen=True)
class IndexStatus:
    """Which vector index searches of a model use: ``where`` "server" (MongoDB $vectorSearch)
    or "memory" (in-process), ``cause`` of the latter ("setting": INDEX_KIND asks for it,
    "unsupported": the server has no vector search, "pending": the server's index is not
    ready for this model), and ``line``, the one-line report."""

    where: str
    cause: str
    line: str


def index_status(repo, model_id: str, kind: str) -> IndexStatus:
    """Where searches of ``model_id`` run with INDEX_KIND ``kind``, and why."""
    if kind not in ("auto", "mongo"):
        return IndexStatus("memory", "setting", f"vector index: in-process (INDEX_KIND={kind})")
    reason, _ = in_process_reason(repo, model_id)
    if not reason:
        return IndexStatus("server", "", f"vector index: MongoDB $vectorSearch (index "
                                         f"{INDEX_NAME!r}, INDEX_KIND={kind})")
    cause = "pending" if detect(repo, model_id).supported else "unsupported"
    return IndexStatus("memory", cause, f"vector index: in-process ({reason})")


def describe(repo, model_id: str, kind: str) -> str:
    """One line for reports: which vector index searches use with INDEX_KIND ``kind``."""
    return index_status(repo, model_id, kind).line


def _log_once(repo, model_id: str, reason: str, explicit: bool) -> None:
    client, key = repo.conn.client, (repo.db.name, model_id)
    with _lock:
        seen = _logged.setdefault(client, {})
        if seen.get(key) == reason:
            return
        seen[key] = reason
    if not reason:
        log.info("vector index: MongoDB $vectorSearch index %r for model %r", INDEX_NAME,
                 model_id)
    elif explicit:
        log.warning("INDEX_KIND=mongo, but searches use the in-process index: %s", reason)
    else:
        log.info("vector index: in-process (%s)", reason)


def forget(repo) -> None:
    """Drop what was asked about this client (after creating or dropping an index)."""
    with _lock:
        _cache.pop(repo.conn.client, None)
        _logged.pop(repo.conn.client, None)
