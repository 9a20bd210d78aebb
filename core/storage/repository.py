"""The catalog repository: items, vectors (vectorstore.py) and the features' documents in
MongoDB; the storage package is the only pymongo user.

Keeps to operations that behave alike on the embedded nx-27017 server and on real MongoDB
(local, replica set, Atlas), so the same code runs on both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, MongoClient, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from core.storage.filters import build_query
from core.storage.outage import mask_uri, short_cause
from core.storage.records import Item, ItemUpdate, Store, UpsertResult
from core.storage.vectorsnapshot import ensure_indexes as ensure_snapshot_indexes
from core.storage.vectorstore import VectorStore

log = logging.getLogger(__name__)

PAGE_SIZE = 2000
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


class Repository(VectorStore):
    """Items, vectors (core/storage/vectorstore.py) and the documents the features keep
    (outfits, pairs, stores, runs…)."""

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
            order = DESCENDING if descending else ASCENDING
            # the sku breaks ties, so pages read with skip neither repeat nor miss an item
            cursor = cursor.sort([(build_query({sort: None}, keys_only=True)[0], order),
                                  ("_id", ASCENDING)])
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


_KINDS = {"outfits", "pairs", "stores", "customers", "purchases", "runs", "projections",
          "ingest_journal", "meta"}


def _collection_name(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"unknown document kind {kind!r}; known: {sorted(_KINDS)}")
    return kind
