"""Embedding explorer: PCA / t-SNE maps of the catalog with k-means clusters, cached in MongoDB.

Names are loaded on first use, so that the light parts (the map's parameters) do not pull in
scikit-learn and plotly.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "clusters": ("Clustering", "ClusterSummary", "KSuggestion", "cluster", "suggest_k",
                 "summarise"),
    "colours": ("COLOR_BY", "garment_colour", "groups"),
    "describe": ("describe_placement",),
    "export": ("assignments_csv", "map_figure", "render_png"),
    "figure": ("breakdown", "cluster_label", "scatter_figure", "selected_rows",
               "summary_frame"),
    "memo": ("MapMemo", "map_memo", "photo_embedder"),
    "params": ("METHODS", "ExploreError", "MapParams", "ProjectionParams"),
    "projection": ("Projection", "normalise", "project"),
    "sample": ("SAMPLE_SIZE", "sample_skus", "stratified_rows"),
    "service": ("ExploreMap", "Placement", "build_map", "ensure_vectors", "map_caption",
                "place", "sample_note", "suggest_clusters"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}
__all__ = sorted(_MODULE)


def __getattr__(name: str) -> Any:
    if name not in _MODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"core.explore.{_MODULE[name]}"), name)
    globals()[name] = value
    return value
