"""A model's vectors packed into a few large blocks in MongoDB: a cold load without a disk
cache reads those instead of one document per vector.

Layout, for model ``m`` at vectors version ``e`` with ``n`` vectors (key ``m|e<e>|n<n>``):

- blocks: GridFS files of the bucket ``vector_snapshot_blocks``, ``_id``
  ``<key>|<token>|b<block:06d>``, each holding up to BLOCK_BYTES of rows (8,192 rows at 128
  dimensions = 4 MB): the rows' float32 bytes, then their skus as UTF-8 joined by newlines.
  Rows are sorted by sku, block after block. ``token`` is random per write, so two writers
  never touch each other's files.
- header: one small document of the collection ``vector_snapshots``, ``_id`` = the key, naming
  the token, dimension, rows per block and block count. It is written LAST: a reader ignores
  blocks without their header, and a header whose blocks are missing or of the wrong size.

Why GridFS and not plain documents holding a Binary: the embedded server keeps a document's
Binary as base64 inside JSON, and serves 4 MB documents at about 150,000-200,000 vectors/s;
it keeps GridFS chunks as SQLite blobs and serves the same bytes at about 700,000 vectors/s
(measured with `bench scale`). GridFS put/get behaves alike on both servers, and files do not
meet the 16 MB document limit.

Never stale: any write or delete of a model's vectors bumps its vectors version, and a reader
only asks for the key of the current version and count. A snapshot is written only when the
version and count are unchanged across the load it packs. Once a new snapshot is complete,
the model's other headers and blocks (older versions, interrupted writes) are deleted.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import gridfs
import numpy as np
from pymongo import ASCENDING
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

HEADERS = "vector_snapshots"
BUCKET = "vector_snapshot_blocks"
BLOCK_BYTES = 4 * 2**20  # vector bytes per block (a few MB; rows per block follow the dim)
MAX_BLOCK_ROWS = 8192
FORMAT = 1


def snapshot_key(model_id: str, vectors_version: int, count: int) -> str:
    return f"{model_id}|e{int(vectors_version)}|n{int(count)}"


def block_rows(dim: int) -> int:
    """Rows per block: 8,192 up to 128 dimensions, fewer above (blocks stay about 4 MB)."""
    return max(1, min(MAX_BLOCK_ROWS, BLOCK_BYTES // (4 * max(1, int(dim)))))


def ensure_indexes(db) -> None:
    db[HEADERS].create_index([("model_id", ASCENDING)])


def _bucket(repo) -> gridfs.GridFS:
    return gridfs.GridFS(repo.db, BUCKET)


def load_snapshot(repo, model_id: str, count: int, vectors_version: int
                  ) -> tuple[list[str], np.ndarray] | None:
    """(skus, float32 matrix) of the complete snapshot of this key, or None (no snapshot, no
    header yet, or blocks missing / of the wrong size: then the caller reads the documents).

    Blocks are read in order straight into one preallocated array."""
    if count <= 0:
        return None
    key = snapshot_key(model_id, vectors_version, count)
    try:
        head = repo.db[HEADERS].find_one({"_id": key})
        if not head or not _header_matches(head, model_id, vectors_version, count):
            return None
        dim, rows_per, blocks, token = (int(head["dim"]), int(head["block_rows"]),
                                        int(head["blocks"]), str(head["token"]))
        if blocks != -(-count // rows_per):
            return _ignored(key, f"{blocks} blocks for {count} rows of {rows_per}")
        fs = _bucket(repo)
        matrix = np.empty((count, dim), dtype=np.float32)
        skus: list[str] = []
        for b in range(blocks):
            lo, hi = b * rows_per, min(count, (b + 1) * rows_per)
            data = fs.get(f"{key}|{token}|b{b:06d}").read()
            nbytes = (hi - lo) * dim * 4
            if len(data) < nbytes:
                return _ignored(key, f"block {b} holds {len(data)} bytes, expected > {nbytes}")
            names = data[nbytes:].decode("utf-8").split("\n")
            if len(names) != hi - lo:
                return _ignored(key, f"block {b} names {len(names)} skus for {hi - lo} rows")
            matrix[lo:hi] = np.frombuffer(data, dtype=np.float32, count=(hi - lo) * dim
                                          ).reshape(hi - lo, dim)
            skus.extend(names)
            del data
    except gridfs.errors.NoFile as exc:
        return _ignored(key, f"a block is missing ({exc})")
    except (PyMongoError, ValueError, KeyError, TypeError) as exc:
        return _ignored(key, _short(exc))
    return skus, matrix


def _header_matches(head: dict[str, Any], model_id: str, version: int, count: int) -> bool:
    return (head.get("format") == FORMAT and head.get("model_id") == model_id
            and head.get("vectors_version") == int(version) and head.get("count") == int(count))


def _ignored(key: str, why: str) -> None:
    log.warning("ignoring vector snapshot %s: %s", key, why)
    return None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def write_snapshot(repo, model_id: str, vectors_version: int, skus: list[str],
                   matrix: np.ndarray) -> dict[str, Any]:
    """Write the snapshot of ``skus``/``matrix`` (sorted by sku) under this version: blocks,
    then the header, then delete the model's other snapshots. Raises on failure (see
    save_snapshot for the best-effort call). Returns the header written."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    count = len(skus)
    if matrix.ndim != 2 or len(matrix) != count or count == 0:
        raise ValueError(f"{count} skus for vectors of shape {matrix.shape}")
    dim = int(matrix.shape[1])
    rows_per = block_rows(dim)
    key = snapshot_key(model_id, vectors_version, count)
    token = uuid.uuid4().hex[:12]
    fs = _bucket(repo)
    blocks = -(-count // rows_per)
    written: list[str] = []
    try:
        for b in range(blocks):
            lo, hi = b * rows_per, min(count, (b + 1) * rows_per)
            names = "\n".join(skus[lo:hi])
            if names.count("\n") != hi - lo - 1:
                raise ValueError("a sku holds a newline; such skus are not packed")
            block_id = f"{key}|{token}|b{b:06d}"
            fs.put(matrix[lo:hi].tobytes() + names.encode("utf-8"), _id=block_id,
                   metadata={"model_id": model_id, "vectors_version": int(vectors_version),
                             "count": count, "token": token, "block": b})
            written.append(block_id)
    except BaseException:
        _delete_blocks(fs, written)  # no header names them: readers never saw them
        raise
    head = {"format": FORMAT, "model_id": model_id, "vectors_version": int(vectors_version),
            "count": count, "dim": dim, "block_rows": rows_per, "blocks": blocks,
            "token": token, "written_at": time.time()}
    repo.db[HEADERS].update_one({"_id": key}, {"$set": head}, upsert=True)  # last: complete
    drop_snapshots(repo, model_id, keep=(key, token))
    return head


def save_snapshot(repo, model_id: str, vectors_version: int, skus: list[str],
                  matrix: np.ndarray) -> bool:
    """write_snapshot, best effort: a failure logs a warning and changes nothing a reader
    uses (a snapshot without its header is never read). True when written."""
    try:
        write_snapshot(repo, model_id, vectors_version, skus, matrix)
    except (PyMongoError, gridfs.errors.GridFSError, ValueError, OSError) as exc:
        log.warning("could not write the vector snapshot of model %r: %s", model_id, _short(exc))
        return False
    return True


def drop_snapshots(repo, model_id: str, keep: tuple[str, str] | None = None) -> int:
    """Delete the model's snapshot headers and blocks except those of ``keep`` (key, token);
    returns how many block files went."""
    keep_key, keep_token = keep or ("", "")
    repo.db[HEADERS].delete_many({"model_id": model_id, "_id": {"$ne": keep_key}})
    fs = _bucket(repo)
    gone = 0
    for f in list(fs.find({"metadata.model_id": model_id})):
        if keep and str(f._id).startswith(f"{keep_key}|{keep_token}|"):
            continue
        gone += _delete_blocks(fs, [f._id])
    return gone


def _delete_blocks(fs: gridfs.GridFS, ids: list[Any]) -> int:
    """Delete these block files, best effort (another process may have deleted one)."""
    gone = 0
    for block_id in ids:
        try:
            fs.delete(block_id)
            gone += 1
        except PyMongoError as exc:
            log.debug("vector snapshot block %s: %s", block_id, _short(exc))
    return gone


def snapshot_headers(repo, model_id: str) -> list[dict[str, Any]]:
    """The model's snapshot headers (complete snapshots), for tests and diagnostics."""
    return list(repo.db[HEADERS].find({"model_id": model_id}).sort("_id", ASCENDING))
