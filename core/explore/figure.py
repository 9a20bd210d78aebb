"""What the explorer page draws: the plotly scatter, the cluster table, selection breakdowns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.explore.clusters import SUMMARY_ATTRS
from core.explore.colours import groups
from core.explore.export import title
from core.explore.service import ExploreMap, Placement

HOVER = ("<b>%{customdata[1]}</b><br>%{customdata[2]} · %{customdata[3]} · %{customdata[4]}"
         "<br>season: %{customdata[5]} · cluster %{customdata[6]}<extra></extra>")
CUSTOM_COLUMNS = ("name", *SUMMARY_ATTRS, "cluster")


def scatter_figure(emap: ExploreMap, color_by: str = "cluster",
                   placement: Placement | None = None, height: int = 640) -> go.Figure:
    """WebGL scatter, one trace per colour group; customdata[0] is the table row. Dragging
    zooms and a click selects a point (in lasso or box mode a click sends no selection, so
    those are picked from the chart's toolbar to select many)."""
    table = emap.table
    custom = np.column_stack([np.arange(len(table)).astype(object),
                              *(table[c].astype(str).to_numpy(object) for c in CUSTOM_COLUMNS)])
    marker_size = 9 if emap.n < 500 else 6 if emap.n < 5000 else 4
    fig = go.Figure()
    for g in groups(table, color_by):
        fig.add_trace(go.Scattergl(
            x=table["x"].to_numpy()[g.rows], y=table["y"].to_numpy()[g.rows], mode="markers",
            name=g.label, customdata=custom[g.rows], hovertemplate=HOVER,
            marker={"size": marker_size, "color": g.colour, "opacity": 0.85,
                    "line": {"width": 0.5, "color": "#555555"}},
        ))
    if placement is not None:
        fig.add_trace(go.Scatter(
            x=[placement.x], y=[placement.y], mode="markers", name="your photo",
            customdata=[[-1, "your photo", "", "", "", "", placement.cluster]],
            hovertemplate=f"<b>your photo</b><br>cluster {placement.cluster}<extra></extra>",
            marker={"symbol": "star", "size": 22, "color": "#111111",
                    "line": {"width": 1.5, "color": "white"}},
        ))
    fig.update_layout(
        title={"text": title(emap), "font": {"size": 14}}, height=height, dragmode="zoom",
        margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"itemsizing": "constant"},
        xaxis={"showticklabels": False, "title": None, "zeroline": False},
        yaxis={"showticklabels": False, "title": None, "zeroline": False},
    )
    return fig


def selected_rows(points: Iterable[dict[str, Any]]) -> list[int]:
    """Table rows of the selected points (their customdata[0]), in order, without repeats."""
    rows: list[int] = []
    seen: set[int] = set()
    for point in points or []:
        data = point.get("customdata")
        if not data:
            continue
        row = int(data[0])
        if row >= 0 and row not in seen:
            seen.add(row)
            rows.append(row)
    return rows


def summary_frame(emap: ExploreMap, examples: dict[int, str | None] | None = None
                  ) -> pd.DataFrame:
    """The cluster table: size, share and the dominant value (with its share) per attribute.

    ``examples`` (cluster id -> image URI) adds a first column with a representative picture.
    """
    records = []
    for s in emap.summaries:
        rec: dict[str, Any] = {"cluster": s.id, "size": s.size, "share": f"{s.share:.0%}"}
        if examples is not None:
            rec = {"example": examples.get(s.id), **rec}
        for attr in SUMMARY_ATTRS:
            value, share = s.top.get(attr, ("unknown", 0.0))
            rec[attr] = f"{value} ({share:.0%})"
        records.append(rec)
    columns = ["cluster", "size", "share", *SUMMARY_ATTRS]
    return pd.DataFrame(records, columns=(["example"] if examples is not None else []) + columns)


def cluster_label(s) -> str:
    """A cluster as the picker names it: its commonest category and colour with their shares,
    so a mixed cluster does not read as all hoodies ("cluster 3: hoodie 12% · brown 30%")."""
    parts = [f"{value} {share:.0%}" for value, share in
             (s.top.get(attr, ("unknown", 0.0)) for attr in ("category", "color"))]
    return f"cluster {s.id}: {' · '.join(parts)} ({s.size:,} items)"


def breakdown(table: pd.DataFrame, rows: Sequence[int], attr: str, top: int = 6) -> pd.DataFrame:
    """Counts and shares of an attribute's values among the given rows, largest first."""
    counts = table.iloc[list(rows)][attr].value_counts()
    frame = pd.DataFrame({attr: counts.index[:top], "count": counts.to_numpy()[:top]})
    frame["share"] = (frame["count"] / max(len(rows), 1)).map("{:.0%}".format)
    return frame
