"""Embedding explorer: PCA / t-SNE maps of the catalog with k-means clusters, cached in MongoDB."""

from __future__ import annotations

from core.explore.clusters import (
    Clustering,
    ClusterSummary,
    KSuggestion,
    cluster,
    suggest_k,
    summarise,
)
from core.explore.colours import COLOR_BY, garment_colour, groups
from core.explore.export import assignments_csv, render_png
from core.explore.figure import breakdown, scatter_figure, selected_rows, summary_frame
from core.explore.memo import MapMemo, map_memo, photo_embedder
from core.explore.projection import METHODS, Projection, ProjectionParams, normalise, project
from core.explore.service import (
    ExploreError,
    ExploreMap,
    MapParams,
    Placement,
    build_map,
    ensure_vectors,
    place,
    suggest_clusters,
)

__all__ = [
    "COLOR_BY", "METHODS", "ClusterSummary", "Clustering", "ExploreError", "ExploreMap",
    "KSuggestion", "MapMemo", "MapParams", "Placement", "Projection", "ProjectionParams",
    "assignments_csv", "breakdown", "build_map", "cluster", "ensure_vectors", "garment_colour",
    "groups", "map_memo", "normalise", "photo_embedder", "place", "project", "render_png",
    "scatter_figure", "selected_rows", "suggest_clusters", "suggest_k", "summarise",
    "summary_frame",
]
