"""Indexes built from MongoDB vectors, cached on disk and kept current.

The model's raw vectors are cached on disk as well (core/index/vectorcache.py), so a new
index kind or a restart after a lost index file reads no vectors from MongoDB. The on-disk
index cache is keyed by model id + catalog version + vector count + vectors version,
so a restart loads the index in about a second, while an ingest (catalog version bump), any
write or delete of the model's vectors (vectors version: re-embedding with a new encoder keeps
the count but changes every vector) or another model id builds a fresh one. Stale entries of
the same model are removed.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from core.config import INDEX_KINDS, Settings, index_kind
from core.index.ann import AnnIndex
from core.index.base import VectorIndex, normalise
from core.index.exact import ExactIndex
from core.index.vectorcache import VectorCache, cached_vectors

log = logging.getLogger(__name__)

ANN_MIN_ROWS = 200_000  # "auto" switches to the approximate index above this many vectors
KINDS = INDEX_KINDS  # auto | exact | hnsw | ivf | mongo (the INDEX_KIND setting)
SERVER_KINDS = ("auto", "mongo")  # kinds that use the server's $vectorSearch when it can


class NoVectors(LookupError):
    """The catalog has no embeddings for the requested model yet."""


def embed_command(model_id: str) -> str:
    """The CLI command that embeds the catalog for ``model_id`` ("studio_encoder+mask" ->
    ``python -m core embed --backbone studio_encoder --mask``)."""
    backbone, _, suffix = model_id.partition("+")
    return f"python -m core embed --backbone {backbone}" + (" --mask" if suffix == "mask" else "")


def choose_kind(n: int, kind: str = "auto") -> str:
    """The concrete in-process index kind for ``n`` vectors: exact up to ANN_MIN_ROWS, then
    IVF (also for mongo: the in-process index it falls back to)."""
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; choose from {', '.join(KINDS)}")
    if kind not in SERVER_KINDS:
        return kind
    return "ivf" if n > ANN_MIN_ROWS else "exact"


def build_index(skus: list[str], matrix: np.ndarray, *, kind: str = "auto", model_id: str = "",
                device: str = "cpu", normalised: bool = False) -> VectorIndex:
    """An exact or approximate index over ``matrix`` (rows aligned with ``skus``)."""
    concrete = choose_kind(len(skus), kind)
    if concrete == "exact":
        return ExactIndex(skus, matrix, model_id=model_id, device=device, normalised=normalised)
    return AnnIndex.build(skus, matrix, kind=concrete, model_id=model_id, normalised=normalised)


def _slug(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", model_id) or "model"


class IndexCache:
    """Index files under ``<cache_dir>/index/<model>__v<version>_n<count>_e<vectors>_<kind>/``.

    ``version`` is the catalog version, ``vectors`` the model's vectors version.
    """

    def __init__(self, cache_dir: Path):
        self.root = Path(cache_dir) / "index"

    def path(self, model_id: str, version: int, count: int, kind: str,
             vectors_version: int = 0) -> Path:
        return self.root / f"{_slug(model_id)}__v{version}_n{count}_e{vectors_version}_{kind}"

    def load(self, model_id: str, version: int, count: int, kind: str, device: str = "cpu",
             vectors_version: int = 0) -> VectorIndex | None:
        folder = self.path(model_id, version, count, kind, vectors_version)
        try:
            meta = json.loads((folder / "meta.json").read_text())
            skus = json.loads((folder / "skus.json").read_text())
            if kind == "exact":
                matrix = np.load(folder / "matrix.npy", mmap_mode="r")  # no copy
                return ExactIndex(skus, matrix, model_id=model_id, device=device, normalised=True)
            index = faiss.read_index(str(folder / "index.faiss"))
            return AnnIndex(skus, index, kind=kind, model_id=model_id, breadth=meta["breadth"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("ignoring unreadable index cache %s: %s", folder, exc)
            return None

    def save(self, index: VectorIndex, version: int, count: int, vectors_version: int = 0
             ) -> Path:
        """Write atomically (temp folder, then rename) and drop older entries of the model."""
        target = self.path(index.model_id, version, count, index.kind, vectors_version)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        try:
            meta: dict[str, Any] = {"model_id": index.model_id, "version": version, "count": count,
                                    "vectors_version": vectors_version, "kind": index.kind,
                                    "dim": index.dim, "built": time.time()}
            if isinstance(index, ExactIndex):
                np.save(tmp / "matrix.npy", index.matrix.cpu().numpy())
            elif isinstance(index, AnnIndex):
                faiss.write_index(index.index, str(tmp / "index.faiss"))
                meta["breadth"] = index.breadth
            (tmp / "skus.json").write_text(json.dumps(index.skus))
            (tmp / "meta.json").write_text(json.dumps(meta))
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in self.root.glob(f"{_slug(index.model_id)}__*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        return target


class IndexManager:
    """One live index per model id, rebuilt when the catalog version, vector count or vectors
    version changes. ``kind`` overrides the INDEX_KIND setting (``settings.index_kind``)."""

    def __init__(self, settings: Settings, kind: str | None = None):
        self.settings = settings
        self.kind = index_kind(kind or settings.index_kind)
        self.cache = IndexCache(settings.cache_dir)
        self.vector_cache = VectorCache(settings.cache_dir)
        self._live: dict[str, tuple[tuple[int, int, int], VectorIndex]] = {}
        self._lock = threading.Lock()
        self.last_source = ""  # "memory" | "disk" | "built": where the last get() came from

    def get(self, repo, model_id: str) -> VectorIndex:
        """The current index of ``model_id``; raises NoVectors when nothing is embedded."""
        version, count = repo.catalog_version(), repo.vector_count(model_id)
        vectors_version = repo.vectors_version(model_id)
        if count == 0:
            raise NoVectors(f"no embeddings for model {model_id!r} yet: run "
                            f"`{embed_command(model_id)}`")
        with self._lock:
            live = self._live.get(model_id)
            stamp = (version, count, vectors_version)
            if live and live[0] == stamp:
                self.last_source = "memory"
                return live[1]
            index = self._load_or_build(repo, model_id, *stamp)
            self._live[model_id] = (stamp, index)
            return index

    def server(self, repo, model_id: str):
        """The server's $vectorSearch index of ``model_id`` (core.index.mongo) when the kind
        allows it and the server can serve it; None: search the in-process index."""
        if self.kind not in SERVER_KINDS:
            return None
        from core.index.mongo import server_index

        return server_index(repo, model_id, explicit=self.kind == "mongo")

    def _load_or_build(self, repo, model_id: str, version: int, count: int,
                       vectors_version: int) -> VectorIndex:
        kind = choose_kind(count, self.kind)
        index = self.cache.load(model_id, version, count, kind, self.settings.device,
                                vectors_version)
        if index is not None and len(index) == count:
            self.last_source = "disk"
            log.info("loaded %s from %s", index, self.cache.root)
            return index
        t0 = time.perf_counter()
        skus, matrix, _ = cached_vectors(repo, model_id, self.vector_cache, count=count,
                                         vectors_version=vectors_version)
        index = build_index(skus, normalise(matrix), kind=kind, model_id=model_id,
                            device=self.settings.device, normalised=True)
        try:
            self.cache.save(index, version, len(skus), vectors_version)
        except OSError as exc:
            log.warning("could not cache the index on disk: %s", exc)
        self.last_source = "built"
        log.info("built %s in %.1f s", index, time.perf_counter() - t0)
        return index


def index_manager(settings: Settings, kind: str | None = None) -> IndexManager:
    """Factory for the UI's resource cache and the CLI (kind None: the INDEX_KIND setting)."""
    return IndexManager(settings, kind)
