"""Vector documents' bytes to numpy rows: a page at a time, never a list of row arrays."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def unzip_page(docs: Iterable[dict[str, Any]]) -> tuple[list[str], list[bytes]]:
    """(ids, vector bytes) of a page of vector documents."""
    ids: list[str] = []
    blobs: list[bytes] = []
    for d in docs:
        ids.append(d["_id"])
        blobs.append(d["v"])
    return ids, blobs


def decode_page(blobs: list[bytes], dim: int, model_id: str) -> np.ndarray:
    """A page of float32 vectors (rows) from their bytes; every one must have ``dim`` values."""
    joined = b"".join(blobs)
    if len(joined) != 4 * dim * len(blobs):
        bad = next(len(b) // 4 for b in blobs if len(b) != 4 * dim)
        raise ValueError(f"model {model_id!r} mixes vector sizes: {bad} and {dim} dimensions")
    return np.frombuffer(joined, dtype=np.float32).reshape(len(blobs), dim)
