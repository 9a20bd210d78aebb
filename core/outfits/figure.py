"""What the Outfits page draws of a scored look: the heatmap of its pair probabilities."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.outfits.explain import numbered


def pair_figure(labels: list[str], pairs: np.ndarray) -> go.Figure:
    """Heatmap of the pair probabilities, pieces numbered (two may share a label)."""
    labels = numbered(labels)
    z = [[None if np.isnan(p) else float(p) for p in row] for row in pairs]
    text = [["" if p is None else f"{p:.0%}" for p in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=labels, y=labels, zmin=0, zmax=1, colorscale="RdYlGn", text=text,
        texttemplate="%{text}", textfont={"size": 14}, xgap=3, ygap=3,
        hovertemplate="%{y} + %{x}: %{z:.0%}<extra></extra>",
        colorbar={"title": "go together", "tickformat": ".0%"}))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=140 + 55 * len(labels), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title={"text": "How each pair goes together", "font": {"size": 15}})
    return fig
