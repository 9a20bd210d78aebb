"""Vector indexes: exact cosine top-k on torch, FAISS IVF/HNSW for very large catalogs."""

from core.index.ann import AnnIndex, recall_at_k
from core.index.base import Hit, VectorIndex, normalise
from core.index.exact import ExactIndex
from core.index.store import (
    ANN_MIN_ROWS,
    IndexCache,
    IndexManager,
    NoVectors,
    build_index,
    choose_kind,
    embed_command,
    index_manager,
)

__all__ = [
    "ANN_MIN_ROWS", "AnnIndex", "ExactIndex", "Hit", "IndexCache", "IndexManager", "NoVectors",
    "VectorIndex", "build_index", "choose_kind", "embed_command", "index_manager", "normalise",
    "recall_at_k",
]
