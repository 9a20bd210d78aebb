"""An in-process memo of built maps, so an interactive session redraws without a database read.

The page holds one :class:`MapMemo` through ``pages.common.resource("core.explore:map_memo")``.
Entries are keyed like the MongoDB cache (model id, catalog version, vector count, vectors
version, parameters): a changed catalog or re-embedded vectors miss here too and fall through
to :func:`build_map`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from core.config import Settings
from core.explore.service import ExploreMap, MapParams, build_map, suggest_clusters
from core.progress import FractionProgress
from core.storage import Repository


class MapMemo:
    """Least-recently-used maps (a few: each holds its table and, once placed, its vectors).
    ``cache_dir``: where the vectors a computed map reads are cached on disk."""

    def __init__(self, capacity: int = 4, cache_dir: Path | None = None):
        self.capacity = capacity
        self.cache_dir = cache_dir
        self._maps: OrderedDict[tuple, ExploreMap] = OrderedDict()
        self._suggestions: dict[tuple, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _stamp(self, repo: Repository, model_id: str) -> tuple:
        return (model_id, repo.catalog_version(), repo.vector_count(model_id),
                repo.vectors_version(model_id))

    def get(self, repo: Repository, model_id: str, params: MapParams,
            progress: FractionProgress | None = None) -> ExploreMap:
        """The map for these parameters, from memory, MongoDB or freshly computed."""
        key = (*self._stamp(repo, model_id), params)
        with self._lock:
            if key in self._maps:
                self._maps.move_to_end(key)
                return self._maps[key]
        emap = build_map(repo, model_id, params, progress=progress, cache_dir=self.cache_dir)
        with self._lock:
            self._maps[key] = emap
            while len(self._maps) > self.capacity:
                self._maps.popitem(last=False)
        return emap

    def suggest(self, repo: Repository, model_id: str, progress: FractionProgress | None = None
                ) -> dict[str, Any]:
        """The silhouette suggestion for k (see :func:`suggest_clusters`)."""
        key = self._stamp(repo, model_id)
        if key not in self._suggestions:
            self._suggestions[key] = suggest_clusters(repo, model_id, progress=progress,
                                                      cache_dir=self.cache_dir)
        return self._suggestions[key]


def map_memo(settings: Settings) -> MapMemo:
    """Factory for ``pages.common.resource``: one memo per app process."""
    return MapMemo(cache_dir=settings.cache_dir)


def photo_embedder(settings: Settings, model_id: str):
    """Factory for ``pages.common.resource``: the image model that made ``model_id``'s vectors.

    Model ids are backbone names, with ``+mask`` when garment masking was applied.
    """
    from core.models.embed import embedder_for

    return embedder_for(model_id, settings)
