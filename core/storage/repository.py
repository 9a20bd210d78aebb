"""The catalog repository: the one place that talks to MongoDB (through pymongo).

Keeps to the operations listed in shared/MONGO_SUBSET.md so the same code runs on the
embedded nx-27017 server and on real MongoDB (local, replica set, Atlas).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from bson import Binary
from pymongo import ASCENDING, DESCENDING, MongoClient, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from core.storage.filters import build_query
from core.storage.outage import mask_uri, short_cause
from core.storage.records import Item, ItemUpdate, Store, UpsertResult
from core.storage.vectorbytes import decode_page, unzip_page
from core.storage.vectorsnapshot import drop_snapshots
from core.storage.vectorsnapshot import ensure_indexes as ensure_snapshot_indexes

log = logging.getLogger(__name__)

PAGE_SIZE = 2000
VECTOR_PAGE = 5000  # vector documents per read (a few MB)
SERVER_TIMEOUT_MS = 4000


class DatabaseUnavailable(RuntimeError):
    """MongoDB could not be reached; the message names the (masked) URI and a short cause."""

    def __init__(self, message: str, *, label: str = "", cause: str = ""):
        super().__init__(message)
        self.label, self.cause = label, cause


@dataclass
class Connection:
    client: MongoClient
    uri: str
    embedded: bool

    @property
    def label(self) -> str:
        return mask_uri(self.uri)


def connect(uri: str, *, embedded: bool = False, timeout_ms: int = SERVER_TIMEOUT_MS) -> Connection:
    """Open a client and check it with ``ping``; raise DatabaseUnavailable with a clear message."""
    try:
        client = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
        client.admin.command("ping")
    except (PyMongoError, ValueError) as exc:
        label, cause = mask_uri(uri), short_cause(exc)
        hint = ("The embedded server may have stopped: retry." if embedded else
                "Check MONGO_URI in .env, or leave it empty to use the embedded database.")
        raise DatabaseUnavailable(f"MongoDB is unreachable at {label} ({cause}). {hint}",
                                  label=label, cause=cause) from None
    return Connection(client=client, uri=uri, embedded=embedded)


class Repository:
    """Items, vectors and the documents the features keep (outfits, pairs, stores, runs…)."""

    def __init__(self, conn: Connection, db_name: str, items_collection: str = "items"):
        self.conn = conn
        self.db = conn.client[db_name]
        self.items = self.db[items_collection]
        self.vectors_col = self.db["vectors"]
        self.meta = self.db["meta"]
        self.ensure_indexes()

    # -- setup -----------------------------------------------------------------------------
    def ensure_indexes(self) -> None:
        """Every index of the project is declared here."""
        self.items.create_index([("hash", ASCENDING)], unique=True)
        self.items.create_index([("category", ASCENDING)])
        self.items.create_index([("category", ASCENDING), ("sku", ASCENDING)])
        self.items.create_index([("split", ASCENDING)])
        self.vectors_col.create_index([("model_id", ASCENDING), ("sku", ASCENDING)], unique=True)
        ensure_snapshot_indexes(self.db)  # packed vectors (core/storage/vectorsnapshot.py)
        self.db["pairs"].create_index([("split", ASCENDING)])
        self.db["outfits"].create_index([("split", ASCENDING)])
        self.db["purchases"].create_index([("customer_id", ASCENDING)])
        self.db["ingest_journal"].create_index([("source", ASCENDING)])

    def ping(self) -> bool:
        try:
            self.conn.client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    # -- catalog version (drives index/projection cache invalidation) --------------------------
    def catalog_version(self) -> int:
        doc = self.meta.find_one({"_id": "catalog"})
        return int(doc["version"]) if doc else 0

    def bump_catalog_version(self) -> int:
        doc = self.meta.find_one_and_update(
            {"_id": "catalog"}, {"$inc": {"version": 1}}, upsert=True, return_document=True
        )
        return int(doc["version"])

    def vectors_version(self, model_id: str) -> int:
        """Bumped whenever a model's vectors are written or deleted (drives index caches)."""
        doc = self.meta.find_one({"_id": _vectors_meta_id(model_id)})
        return int(doc["version"]) if doc else 0

    def vectors_source(self, model_id: str) -> str | None:
        """What a model's stored vectors were made with (e.g. its weights' sha256), if recorded."""
        doc = self.meta.find_one({"_id": _vectors_meta_id(model_id)})
        return doc.get("source") if doc else None

    def set_vectors_source(self, model_id: str, source: str) -> None:
        self.meta.update_one({"_id": _vectors_meta_id(model_id)}, {"$set": {"source": source}},
                             upsert=True)

    def bump_vectors_version(self, model_id: str) -> int:
        doc = self.meta.find_one_and_update(
            {"_id": _vectors_meta_id(model_id)}, {"$inc": {"version": 1}}, upsert=True,
            return_document=True,
        )
        return int(doc["version"])

    # -- items -----------------------------------------------------------------------------
    def upsert_items(self, items: Iterable[Item]) -> UpsertResult:
        """Insert items that are new by sku and by content hash; never overwrite."""
        docs = [it.to_doc() for it in items]
        result = UpsertResult()
        if not docs:
            return result
        failed: set[int] = set()
        try:
            self.items.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            other = [e for e in errors if e.get("code") != 11000]
            if other:
                raise RuntimeError(f"writing items failed: {other[0].get('errmsg')}") from None
            failed = {int(e["index"]) for e in errors}
        result.added_skus = [d["_id"] for i, d in enumerate(docs) if i not in failed]
        result.added = len(result.added_skus)
        result.duplicates = len(failed)
        if result.added:
            self.bump_catalog_version()
        return result

    def replace_items(self, items: list[Item]) -> int:
        """Replace stored items by sku with new versions; returns how many were replaced."""
        ops = [ReplaceOne({"_id": it.sku}, it.to_doc()) for it in items]
        if not ops:
            return 0
        changed = self.items.bulk_write(ops, ordered=False).modified_count
        if changed:
            self.bump_catalog_version()
        return changed

    def get_item(self, sku: str) -> Item | None:
        doc = self.items.find_one({"_id": str(sku)})
        return Item.from_doc(doc) if doc else None

    def get_items(self, skus: list[str]) -> list[Item]:
        """Items in the order of ``skus`` (unknown skus are left out)."""
        by_id: dict[str, Item] = {}
        for start in range(0, len(skus), PAGE_SIZE):
            chunk = [str(s) for s in skus[start : start + PAGE_SIZE]]
            for doc in self.items.find({"_id": {"$in": chunk}}):
                by_id[doc["_id"]] = Item.from_doc(doc)
        return [by_id[s] for s in map(str, skus) if s in by_id]

    def has_hash(self, digest: str) -> bool:
        return self.items.count_documents({"hash": digest}, limit=1) > 0

    def find_items(
        self, filters: dict[str, Any] | None = None, *, limit: int = 50, skip: int = 0,
        sort: str | None = None, descending: bool = False,
    ) -> list[Item]:
        cursor = self.items.find(build_query(filters))
        if sort:
            cursor = cursor.sort(build_query({sort: None}, keys_only=True)[0],
                                 DESCENDING if descending else ASCENDING)
        return [Item.from_doc(d) for d in cursor.skip(int(skip)).limit(int(limit))]

    def iter_items(self, filters: dict[str, Any] | None = None, page_size: int = PAGE_SIZE
                   ) -> Iterator[Item]:
        """All matching items, read in pages sorted by sku (never one huge read)."""
        query = build_query(filters)
        last: str | None = None
        while True:
            q = dict(query)
            if last is not None:
                q = {"$and": [query, {"_id": {"$gt": last}}]} if query else {"_id": {"$gt": last}}
            page = list(self.items.find(q).sort("_id", ASCENDING).limit(page_size))
            if not page:
                return
            yield from (Item.from_doc(d) for d in page)
            last = page[-1]["_id"]

    def skus_matching(self, filters: dict[str, Any] | None = None,
                      page_size: int = 5 * PAGE_SIZE) -> list[str]:
        """Skus of the items matching ``filters``, sorted; reads only ``_id`` (in pages)."""
        query = build_query(filters)
        skus: list[str] = []
        while True:
            q = query
            if skus:
                after = {"_id": {"$gt": skus[-1]}}
                q = {"$and": [query, after]} if query else after
            page = [d["_id"] for d in self.items.find(q, {"_id": 1})
                    .sort("_id", ASCENDING).limit(page_size)]
            skus.extend(page)
            if len(page) < page_size:
                return skus

    def skus_in_category(self, category: str, page_size: int = 5 * PAGE_SIZE) -> list[str]:
        """Skus of one category, sorted; pages seek on the (category, sku) index (on the
        embedded server 5x faster than ``skus_matching``'s ``_id`` range at 100,000 items,
        and no slower page by page as the catalog grows)."""
        out: list[str] = []
        while True:
            page = self.items.find({"category": category, "sku": {"$gt": out[-1] if out else ""}},
                                   {"_id": 1}, batch_size=page_size).sort(
                [("category", ASCENDING), ("sku", ASCENDING)]).limit(page_size)
            ids = [d["_id"] for d in page]
            out.extend(ids)
            if len(ids) < page_size:
                return out

    def skus(self, filters: dict[str, Any] | None = None) -> list[str]:
        """All skus (matching ``filters``), sorted."""
        return self.skus_matching(filters)

    def count_items(self, filters: dict[str, Any] | None = None) -> int:
        return self.items.count_documents(build_query(filters))

    def counts_by(self, field: str, filters: dict[str, Any] | None = None) -> dict[str, int]:
        """Item counts grouped by a (possibly dotted) field, largest first."""
        path = build_query({field: None}, keys_only=True)[0]
        pipeline = [{"$match": build_query(filters)},
                    {"$group": {"_id": f"${path}", "n": {"$sum": 1}}},
                    {"$sort": {"n": -1}}]
        return {str(d["_id"]): int(d["n"]) for d in self.items.aggregate(pipeline)}

    def distinct_values(self, field: str) -> list[Any]:
        path = build_query({field: None}, keys_only=True)[0]
        return sorted(v for v in self.items.distinct(path) if v is not None)

    def sample_items(self, n: int, filters: dict[str, Any] | None = None) -> list[Item]:
        pipeline = [{"$match": build_query(filters)}, {"$sample": {"size": int(n)}}]
        return [Item.from_doc(d) for d in self.items.aggregate(pipeline)]

    def update_item_fields(self, sku: str, values: dict[str, Any]) -> None:
        self.items.update_one({"_id": str(sku)}, {"$set": values})

    def apply_item_updates(self, updates: Iterable[ItemUpdate]) -> int:
        """Apply per-item $set/$unset changes (no transaction); returns how many items changed."""
        ops = []
        for up in updates:
            doc: dict[str, Any] = {}
            if up.set_values:
                doc["$set"] = dict(up.set_values)
            if up.unset:
                doc["$unset"] = dict.fromkeys(up.unset, "")
            if doc:
                ops.append(UpdateOne({"_id": str(up.sku)}, doc))
        changed = 0
        for start in range(0, len(ops), PAGE_SIZE):
            changed += self.items.bulk_write(ops[start : start + PAGE_SIZE],
                                             ordered=False).modified_count
        if changed:
            self.bump_catalog_version()  # filters, facets and maps read these fields
        return changed

    def set_popularity(self, values: dict[str, float]) -> None:
        ops = [UpdateOne({"_id": k}, {"$set": {"popularity": float(v)}}) for k, v in values.items()]
        for start in range(0, len(ops), PAGE_SIZE):
            self.items.bulk_write(ops[start : start + PAGE_SIZE], ordered=False)

    # -- vectors ---------------------------------------------------------------------------
    def put_vectors(self, model_id: str, skus: list[str], vectors: np.ndarray) -> None:
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or len(vecs) != len(skus):
            raise ValueError(f"expected {len(skus)} vectors, got shape {vecs.shape}")
        # $set upserts: the embedded server fails to *replace* documents holding binary data.
        ops = [
            UpdateOne(
                {"_id": f"{model_id}|{sku}"},
                {"$set": {"sku": sku, "model_id": model_id, "dim": int(vecs.shape[1]),
                          "v": Binary(vecs[i].tobytes())}},
                upsert=True,
            )
            for i, sku in enumerate(skus)
        ]
        if ops:
            self.vectors_col.bulk_write(ops, ordered=False)
            self.bump_vectors_version(model_id)  # after the write: readers then see new rows

    def delete_vectors(self, model_id: str, skus: list[str] | None = None) -> int:
        """Delete a model's vectors (all, or those of ``skus``); returns how many went."""
        if skus is None:
            deleted = self.vectors_col.delete_many({"model_id": model_id}).deleted_count
        else:
            ids = [f"{model_id}|{s}" for s in map(str, skus)]
            deleted = sum(
                self.vectors_col.delete_many({"_id": {"$in": ids[i : i + PAGE_SIZE]}}).deleted_count
                for i in range(0, len(ids), PAGE_SIZE)
            )
        if deleted:
            self.bump_vectors_version(model_id)
        if skus is None:
            drop_snapshots(self, model_id)  # none could be read (the version moved): free them
        return deleted

    def vectors(self, model_id: str, page_size: int = VECTOR_PAGE, *,
                skus: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        """A model's vectors sorted by sku (only those of ``skus`` when given): (skus, float32
        matrix n×d).

        Counts first, then reads pages of ``_id`` + vector only, each decoded straight into
        its rows of one preallocated array: no list of documents or of row arrays is held.
        """
        if skus is not None:
            return self._vectors_of(model_id, skus, page_size)
        count = self.vector_count(model_id)
        prefix = f"{model_id}|"
        out: list[str] = []
        matrix: np.ndarray | None = None
        while len(out) < count:
            page = self._vector_page(model_id, out[-1] if out else "", {"_id": 1, "v": 1},
                                     min(page_size, count - len(out)))
            ids, blobs = unzip_page(page)
            if not ids:
                break  # vectors were deleted since the count
            if matrix is None:
                matrix = np.empty((count, len(blobs[0]) // 4), dtype=np.float32)
            matrix[len(out) : len(out) + len(ids)] = decode_page(blobs, matrix.shape[1],
                                                                 model_id)
            out.extend(i[len(prefix):] for i in ids)
        if matrix is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        return out, matrix[: len(out)]

    def _vectors_of(self, model_id: str, skus: Iterable[str], page_size: int
                    ) -> tuple[list[str], np.ndarray]:
        """The vectors of the given skus, sorted by sku (skus without one are left out)."""
        wanted = sorted(set(map(str, skus)))
        row_of = {s: r for r, s in enumerate(wanted)}
        found = np.zeros(len(wanted), dtype=bool)
        matrix: np.ndarray | None = None
        prefix = f"{model_id}|"
        for start in range(0, len(wanted), page_size):
            chunk = [prefix + s for s in wanted[start : start + page_size]]
            page = self.vectors_col.find({"_id": {"$in": chunk}}, {"_id": 1, "v": 1})
            ids, blobs = unzip_page(page)
            if not ids:
                continue
            if matrix is None:
                matrix = np.empty((len(wanted), len(blobs[0]) // 4), dtype=np.float32)
            rows = np.fromiter((row_of[i[len(prefix):]] for i in ids), np.int64, len(ids))
            matrix[rows] = decode_page(blobs, matrix.shape[1], model_id)
            found[rows] = True
        if matrix is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        if found.all():
            return wanted, matrix
        return [s for s, ok in zip(wanted, found, strict=True) if ok], matrix[found]

    def vector_skus(self, model_id: str, page_size: int = VECTOR_PAGE) -> list[str]:
        """Skus that have a vector of ``model_id``, sorted; reads only ``_id`` (in pages)."""
        prefix = f"{model_id}|"
        out: list[str] = []
        while True:
            page = self._vector_page(model_id, out[-1] if out else "", {"_id": 1}, page_size)
            ids = [d["_id"][len(prefix):] for d in page]
            out.extend(ids)
            if len(ids) < page_size:
                return out

    def _vector_page(self, model_id: str, after: str, fields: dict[str, int], size: int):
        """One page of a model's vector documents, sorted by sku, after sku ``after``.

        Filter and sort follow the (model_id, sku) index: on the embedded server a range on
        ``_id`` scans the whole collection for every page (~1,500 vectors/s), a seek on this
        index reads ~28,000 vectors/s at any depth.
        """
        query = {"model_id": model_id, "sku": {"$gt": after}}
        return self.vectors_col.find(query, fields, batch_size=size).sort(
            [("model_id", ASCENDING), ("sku", ASCENDING)]).limit(size)

    def vector_count(self, model_id: str) -> int:
        """How many vectors ``model_id`` has. A ``$match`` + ``$count`` pipeline: the embedded
        server answers it from SQL in milliseconds, where count_documents reads every
        document (4 s for 50,000 vectors)."""
        pipeline = [{"$match": {"model_id": model_id}}, {"$count": "n"}]
        return next((int(d["n"]) for d in self.vectors_col.aggregate(pipeline)), 0)

    def skus_without_vectors(self, model_id: str) -> list[str]:
        have = set(self.vectors_col.distinct("sku", {"model_id": model_id}))
        return [s for s in self.skus() if s not in have]

    def model_ids(self) -> list[str]:
        return sorted(self.vectors_col.distinct("model_id"))

    # -- other documents (outfits, pairs, stores, customers, purchases, runs, cache) --------
    def put_docs(self, kind: str, docs: list[dict[str, Any]], key: str = "_id") -> int:
        """Upsert plain documents of a kind by key; returns how many were written."""
        col = self.db[_collection_name(kind)]
        ops = [ReplaceOne({"_id": d[key]}, {**d, "_id": d[key]}, upsert=True) for d in docs]
        for start in range(0, len(ops), PAGE_SIZE):
            try:
                col.bulk_write(ops[start : start + PAGE_SIZE], ordered=False)
            except BulkWriteError as exc:
                first = (exc.details.get("writeErrors") or [{}])[0]
                raise RuntimeError(f"writing {kind} failed: {first.get('errmsg')}") from None
        return len(docs)

    def replace_docs(self, kind: str, docs: list[dict[str, Any]], key: str = "_id") -> int:
        """Make a kind hold exactly ``docs``: upsert them, then delete every other document
        (re-running a generator replaces its output, never duplicates it; readers meanwhile
        see the old or the new documents, never none). Returns how many old ones went."""
        self.put_docs(kind, docs, key)
        keep = [d[key] for d in docs]
        col = self.db[_collection_name(kind)]
        return col.delete_many({"_id": {"$nin": keep}}).deleted_count

    def find_docs(self, kind: str, filters: dict[str, Any] | None = None, *, limit: int = 0,
                  sort: str | None = None) -> list[dict[str, Any]]:
        cursor = self.db[_collection_name(kind)].find(build_query(filters))
        if sort:
            cursor = cursor.sort(sort, ASCENDING)
        if limit:
            cursor = cursor.limit(int(limit))
        return list(cursor)

    def get_doc(self, kind: str, key: str) -> dict[str, Any] | None:
        return self.db[_collection_name(kind)].find_one({"_id": key})

    def count_docs(self, kind: str, filters: dict[str, Any] | None = None) -> int:
        return self.db[_collection_name(kind)].count_documents(build_query(filters))

    def delete_docs(self, kind: str, filters: dict[str, Any] | None = None) -> int:
        return self.db[_collection_name(kind)].delete_many(build_query(filters)).deleted_count

    def stores(self) -> list[Store]:
        return [Store.from_doc(d) for d in self.find_docs("stores", sort="_id")]

    def drop_all(self) -> None:
        """Drop every collection of this database (tests and `demo reset`)."""
        for name in self.db.list_collection_names():
            self.db.drop_collection(name)
        self.ensure_indexes()


def _vectors_meta_id(model_id: str) -> str:
    return f"vectors|{model_id}"


_KINDS = {"outfits", "pairs", "stores", "customers", "purchases", "runs", "projections",
          "ingest_journal", "meta"}


def _collection_name(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"unknown document kind {kind!r}; known: {sorted(_KINDS)}")
    return kind
