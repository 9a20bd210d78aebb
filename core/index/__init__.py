"""Vector indexes: exact cosine top-k on torch, FAISS IVF/HNSW for very large catalogs.

Names are imported on first use: a module that needs only ``core.index.mongo`` (the Home
page's index status) does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AnnIndex": "ann", "recall_at_k": "ann",
    "Hit": "base", "VectorIndex": "base", "normalise": "base",
    "ExactIndex": "exact",
    **dict.fromkeys(("ANN_MIN_ROWS", "IndexCache", "IndexManager", "NoVectors", "build_index",
                     "choose_kind", "embed_command", "index_manager"), "store"),
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
