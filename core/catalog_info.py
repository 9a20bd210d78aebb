"""What the catalog holds: the summary behind `python -m core info` and the Home page."""

from __future__ import annotations

from typing import Any

from core.config import Settings
from core.storage import Repository


def catalog_summary(repo: Repository, settings: Settings) -> dict[str, Any]:
    """Counts by category and split, vectors per model, which database this is and which
    vector index searches use."""
    from core.index.mongo import index_status

    index = index_status(repo, settings.backbone, settings.index_kind)
    return {
        "database": {
            "uri": repo.conn.label, "embedded": repo.conn.embedded,
            "name": settings.db_name, "collection": settings.collection_name,
        },
        "items": repo.count_items(),
        "catalog_version": repo.catalog_version(),
        "categories": repo.counts_by("category"),
        "splits": repo.counts_by("split"),
        "sources": repo.counts_by("source"),
        "vectors": {m: repo.vector_count(m) for m in repo.model_ids()},
        "documents": {k: repo.count_docs(k) for k in ("stores", "outfits", "pairs")},
        "vector_index": index.line,
        "vector_index_caption": index_caption(index),
    }


def index_caption(index) -> str:
    """Where similar items are found (a ``core.index.mongo.IndexStatus``), as a person reads
    it (the technical line goes in its tooltip)."""
    if index.where == "server":
        return "Similar items are found by MongoDB Atlas Vector Search."
    if index.cause == "setting":
        return "Similar items are found in this app's memory (set by INDEX_KIND)."
    if index.cause == "unsupported":
        return ("Similar items are found in this app's memory: this MongoDB server offers no "
                "vector search.")
    return ("Similar items are found in this app's memory until the server's vector search is "
            "ready (details in the tooltip).")
