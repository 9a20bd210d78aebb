"""Catalog consistency queries for `doctor`: file references, vectors without items, drops.

Several catalogs (DB_NAME) may share one DATA_DIR and its content-addressed image store, so a
file counts as referenced when an item of any catalog on the server names it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pymongo import ASCENDING
from pymongo.errors import OperationFailure

from core.storage.repository import PAGE_SIZE, Repository

log = logging.getLogger(__name__)

SYSTEM_DATABASES = {"admin", "local", "config"}


def catalog_databases(repo: Repository) -> list[str]:
    """This catalog's database first, then every other one holding an item collection.

    Falls back to this one alone when the server does not let us list databases.
    """
    own, name = repo.db.name, repo.items.name
    try:
        others = [d for d in repo.conn.client.list_database_names()
                  if d != own and d not in SYSTEM_DATABASES
                  and name in repo.conn.client[d].list_collection_names()]
    except OperationFailure as exc:  # e.g. a user without the listDatabases privilege
        log.warning("cannot list databases (%s): only %s is checked for file references",
                    exc, own)
        return [own]
    return [own, *sorted(others)]


def stored_hashes(repo: Repository) -> set[str]:
    """Content hashes of this catalog's items (files are named by them)."""
    return {h for h in repo.items.distinct("hash") if isinstance(h, str)}


def referenced_paths(repo: Repository, paths: list[str], databases: list[str]) -> set[str]:
    """Which of ``paths`` (as stored: relative or absolute) an item of ``databases`` names."""
    found: set[str] = set()
    client, name = repo.conn.client, repo.items.name
    for db in databases:
        for start in range(0, len(paths), PAGE_SIZE):
            chunk = paths[start : start + PAGE_SIZE]
            query = {"$or": [{"image_path": {"$in": chunk}}, {"mask_path": {"$in": chunk}}]}
            for doc in client[db][name].find(query, {"image_path": 1, "mask_path": 1}):
                found.update(v for v in (doc.get("image_path"), doc.get("mask_path")) if v)
    return found


def item_files(repo: Repository) -> Iterator[tuple[str, str, str | None]]:
    """(sku, image_path, mask_path) of every item, read in pages."""
    last = None
    while True:
        query = {"_id": {"$gt": last}} if last is not None else {}
        page = list(repo.items.find(query, {"image_path": 1, "mask_path": 1})
                    .sort("_id", ASCENDING).limit(PAGE_SIZE))
        if not page:
            return
        for doc in page:
            yield doc["_id"], doc.get("image_path") or "", doc.get("mask_path")
        last = page[-1]["_id"]


def vectors_without_items(repo: Repository) -> dict[str, list[str]]:
    """Skus that have vectors but no item, by model id."""
    items = set(repo.skus())
    orphans = {}
    for model_id in repo.model_ids():
        gone = sorted(set(repo.vectors_col.distinct("sku", {"model_id": model_id})) - items)
        if gone:
            orphans[model_id] = gone
    return orphans


def drop_items(repo: Repository, skus: list[str]) -> int:
    """Delete items and their vectors; returns how many items went."""
    deleted = 0
    for start in range(0, len(skus), PAGE_SIZE):
        chunk = [str(s) for s in skus[start : start + PAGE_SIZE]]
        deleted += repo.items.delete_many({"_id": {"$in": chunk}}).deleted_count
    for model_id in repo.model_ids():
        repo.delete_vectors(model_id, skus)
    if deleted:
        repo.bump_catalog_version()
    return deleted
