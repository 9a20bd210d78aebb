"""Exports of a map: a PNG drawn with matplotlib (no browser or kaleido needed) and a CSV."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.explore.colours import groups
from core.explore.service import ExploreMap, Placement

MAX_LEGEND = 24
LEGEND_MARKER = 30.0  # points², every legend entry: the rows' height at font size 7


def title(emap: ExploreMap) -> str:
    """One line naming the model, method, k and size of a map."""
    p = emap.params
    method = "PCA" if p.method == "pca" else f"t-SNE (perplexity {p.perplexity:g})"
    return f"{emap.model_id} · {method} · k={p.clusters} · {emap.n} items"


def map_figure(emap: ExploreMap, color_by: str = "cluster", placement: Placement | None = None,
               *, dpi: int = 150, size: tuple[float, float] = (10.0, 7.5)) -> Figure:
    """The map as a matplotlib figure, coloured like the page, with the placed photo as a star.

    Legend markers all have one size (the star too), so no entry covers another.
    """
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x, y = emap.table["x"].to_numpy(), emap.table["y"].to_numpy()
    marker_size = max(2.0, min(18.0, 6000.0 / max(emap.n, 1)))
    for g in groups(emap.table, color_by):
        ax.scatter(x[g.rows], y[g.rows], s=marker_size, c=g.colour, label=g.label,
                   edgecolors="#555555", linewidths=0.2, alpha=0.85)
    if placement is not None:
        ax.scatter([placement.x], [placement.y], marker="*", s=420, c="#111111",
                   edgecolors="white", linewidths=1.2, label="your photo", zorder=5)
    ax.set_title(f"{title(emap)} · coloured by {color_by}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    handles, labels = ax.get_legend_handles_labels()
    if len(labels) <= MAX_LEGEND:
        legend = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                           fontsize=7, frameon=False)
        for handle in legend.legend_handles:
            handle.set_sizes([LEGEND_MARKER])
    return fig


def render_png(emap: ExploreMap, color_by: str = "cluster", placement: Placement | None = None,
               *, dpi: int = 150, size: tuple[float, float] = (10.0, 7.5)) -> bytes:
    """The map as PNG bytes (see :func:`map_figure`)."""
    buf = io.BytesIO()
    map_figure(emap, color_by, placement, dpi=dpi, size=size).savefig(
        buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def assignments_csv(emap: ExploreMap) -> str:
    """One row per item: sku, name, category, colour, pattern, season, cluster, x, y."""
    return emap.table.to_csv(index=False, float_format="%.4f")
