"""A model's raw vectors on disk, keyed by its vectors version, loaded memory-mapped.

One folder per key, ``<cache_dir>/vectors/<model>__n<count>_e<vectors version>/`` holding
``vectors.npy`` (float32 n x d, rows sorted by sku), ``skus.json`` and ``key.json``. A folder
is written whole under a temporary name and renamed into place, so a reader finds a complete
entry or none. Any write or delete of the model's vectors bumps its vectors version (an embed
with a new encoder as well as a new item), so an entry is never read stale. A warm start maps
the file instead of reading it: no copy, and pages are read from disk as they are touched.

Levels of a load (``cached_vectors``): this disk cache, then the packed snapshot in MongoDB
(a few large blocks, shared by every host of the database), then one document per vector.
After an embed adds vectors, ``pack_added`` packs the new state from the previous packed one
and the rows just written, without reading every vector document again, when nothing else
wrote the model's vectors meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from core.storage.vectorsnapshot import load_snapshot, save_snapshot

log = logging.getLogger(__name__)


def slug(model_id: str) -> str:
    """A model id as a file-name part ("a/b c" -> "a_b_c")."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", model_id) or "model"


class VectorCache:
    """Raw vectors of each model under ``<cache_dir>/vectors/`` (the newest key only)."""

    def __init__(self, cache_dir: Path):
        self.root = Path(cache_dir) / "vectors"

    def path(self, model_id: str, count: int, vectors_version: int) -> Path:
        return self.root / f"{slug(model_id)}__n{count}_e{vectors_version}"

    @staticmethod
    def key(model_id: str, count: int, vectors_version: int) -> dict[str, object]:
        return {"model_id": model_id, "count": int(count), "vectors_version": int(vectors_version)}

    def load(self, model_id: str, count: int, vectors_version: int
             ) -> tuple[list[str], np.ndarray] | None:
        """(skus, read-only memory-mapped matrix) of this key, or None when not cached."""
        folder = self.path(model_id, count, vectors_version)
        try:
            key = json.loads((folder / "key.json").read_text())
            if {k: key.get(k) for k in ("model_id", "count", "vectors_version")} != self.key(
                    model_id, count, vectors_version):
                return None
            matrix = np.load(folder / "vectors.npy", mmap_mode="r")
            skus = json.loads((folder / "skus.json").read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable vector cache %s: %s", folder, exc)
            return None
        if matrix.ndim != 2 or matrix.dtype != np.float32 or len(skus) != len(matrix) \
                or len(skus) != count:
            log.warning("ignoring vector cache %s: %d skus for %s vectors", folder, len(skus),
                        matrix.shape)
            return None
        return skus, matrix

    def save(self, model_id: str, vectors_version: int, skus: list[str], matrix: np.ndarray
             ) -> Path:
        """Write one entry atomically (temporary folder, then rename); drop the model's others."""
        if len(skus) != len(matrix):
            raise ValueError(f"{len(skus)} skus for {len(matrix)} vectors")
        target = self.path(model_id, len(skus), vectors_version)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        try:
            np.save(tmp / "vectors.npy", np.ascontiguousarray(matrix, dtype=np.float32))
            (tmp / "skus.json").write_text(json.dumps(list(skus)))
            key = {**self.key(model_id, len(skus), vectors_version),
                   "dim": int(matrix.shape[1]) if matrix.ndim == 2 else 0, "written": time.time()}
            (tmp / "key.json").write_text(json.dumps(key))
            try:
                os.replace(tmp, target)
            except OSError:  # an entry of this key is there (unreadable, or a twin): swap
                aside = Path(tempfile.mkdtemp(prefix=".old-", dir=self.root))
                os.replace(target, aside / "entry")
                os.replace(tmp, target)
                shutil.rmtree(aside, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in self.root.glob(f"{slug(model_id)}__*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        return target


def cached_vectors(repo, model_id: str, cache: VectorCache | None, *, count: int | None = None,
                   vectors_version: int | None = None, snapshot: bool = True
                   ) -> tuple[list[str], np.ndarray, str]:
    """(skus, matrix, "disk" | "snapshot" | "database"), from the first level that holds the
    current vectors: the disk cache, else the packed snapshot in MongoDB
    (core/storage/vectorsnapshot.py), else one document per vector, after which the snapshot
    is written (best effort). The disk cache is then written. A memory-mapped matrix is
    read-only; copy before writing to it."""
    count = repo.vector_count(model_id) if count is None else count
    version = repo.vectors_version(model_id) if vectors_version is None else vectors_version
    if cache is not None:
        hit = cache.load(model_id, count, version)
        if hit is not None:
            return hit[0], hit[1], "disk"
    packed = load_snapshot(repo, model_id, count, version) if snapshot else None
    if packed is not None:
        skus, matrix = packed
        source = "snapshot"
    else:
        skus, matrix = repo.vectors(model_id)
        source = "database"
        # pack only what one version holds: nothing was written or deleted during the load
        if snapshot and len(skus) == count and count and (
                repo.vectors_version(model_id), repo.vector_count(model_id)) == (version, count):
            t0 = time.perf_counter()
            if save_snapshot(repo, model_id, version, skus, matrix):
                log.info("packed %d vectors of %r into MongoDB in %.1f s", count, model_id,
                         time.perf_counter() - t0)
    if cache is not None and len(skus) == count:
        try:
            cache.save(model_id, version, skus, matrix)
        except OSError as exc:
            log.warning("could not cache the vectors on disk: %s", exc)
    return skus, matrix, source


def packed_state(repo, model_id: str, cache: VectorCache | None, count: int, version: int
                 ) -> tuple[list[str], np.ndarray] | None:
    """The packed vectors of this version and count, from the disk cache or else the snapshot
    (never the vector documents); None when neither holds them."""
    hit = cache.load(model_id, count, version) if cache is not None else None
    return hit if hit is not None else load_snapshot(repo, model_id, count, version)


def merge_rows(skus: list[str], matrix: np.ndarray, new_skus: list[str], new: np.ndarray
               ) -> tuple[list[str], np.ndarray]:
    """``skus``/``matrix`` with the rows of ``new_skus``/``new`` added (replacing rows of the
    same sku), sorted by sku."""
    new = np.asarray(new, dtype=np.float32)
    replaced = set(new_skus)
    keep = np.fromiter((s not in replaced for s in skus), bool, len(skus))
    names = np.array([*(s for s, k in zip(skus, keep, strict=True) if k), *new_skus],
                     dtype=object)
    order = np.argsort(names, kind="stable")
    dim = new.shape[1] if len(new) else (matrix.shape[1] if matrix.ndim == 2 else 0)
    out = np.empty((len(names), dim), dtype=np.float32)
    old_rows = int(keep.sum())
    where = np.empty(len(names), dtype=np.int64)
    where[order] = np.arange(len(names))  # row of each (old kept, then new) in the output
    if old_rows:
        out[where[:old_rows]] = matrix[keep] if not keep.all() else matrix
    if len(new):
        out[where[old_rows:]] = new
    return names[order].tolist(), out


def pack_added(repo, model_id: str, cache: VectorCache | None, before: tuple[int, int],
               added: list[tuple[list[str], np.ndarray]]) -> str:
    """Pack the model's vectors (snapshot in MongoDB, then the disk cache) after an embed that
    wrote the batches ``added``, starting from ``before`` = (vectors version, count) as they
    were before it. When the version moved by exactly one per batch (nothing else wrote or
    deleted) and the state before is packed (or empty), the new state is that state plus the
    rows written: no vector document is read. Otherwise the ``cached_vectors`` path. Returns
    "added" or that path's source."""
    version, count = repo.vectors_version(model_id), repo.vector_count(model_id)
    v0, c0 = before
    base = None
    if version == v0 + len(added):
        base = ([], np.zeros((0, 0), np.float32)) if c0 == 0 else \
            packed_state(repo, model_id, cache, c0, v0)
    if base is not None and added:
        new_skus = [s for skus, _ in added for s in skus]
        skus, matrix = merge_rows(*base, new_skus, np.concatenate([v for _, v in added]))
        if len(skus) == count and len(set(new_skus)) == len(new_skus):
            if save_snapshot(repo, model_id, version, skus, matrix):
                log.info("packed %d vectors of %r (%d added) without reading them back",
                         count, model_id, len(new_skus))
            if cache is not None:
                try:
                    cache.save(model_id, version, skus, matrix)
                except OSError as exc:
                    log.warning("could not cache the vectors on disk: %s", exc)
            return "added"
    return cached_vectors(repo, model_id, cache)[2]
