"""Colours for map groups: the garments' real colours for 'color', a fixed palette otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib import colors as mcolors

COLOR_BY = ("cluster", "category", "color", "pattern", "season")
UNKNOWN = "#bdbdbd"
# tab10 first (the most distinct), then the lighter/darker tab20 variants.
PALETTE = [mcolors.to_hex(c) for c in (
    list(colormaps["tab10"].colors) + list(colormaps["tab20"].colors[1::2])
    + list(colormaps["tab20b"].colors)
)]


@dataclass
class Group:
    """One legend entry: the value, the table rows holding it and its colour."""

    label: str
    value: str
    rows: np.ndarray
    colour: str


def garment_colour(name: str) -> str | None:
    """Hex for a colour name: the demo catalog's own palette, then CSS/XKCD names."""
    key = str(name).strip().lower()
    try:
        from core.taxonomy import COLORS
    except ImportError:  # catalogs ingested without the demo package still map CSS names
        COLORS = {}
    if key in COLORS:
        return "#{:02x}{:02x}{:02x}".format(*COLORS[key].rgb)
    for candidate in (key.replace(" ", ""), f"xkcd:{key}"):
        if mcolors.is_color_like(candidate) and not candidate.replace(".", "").isdigit():
            return mcolors.to_hex(candidate)
    return None


def groups(table: pd.DataFrame, by: str) -> list[Group]:
    """Rows grouped by a column, clusters in id order, other values largest first."""
    if by not in COLOR_BY:
        raise ValueError(f"colour by must be one of {', '.join(COLOR_BY)}, got {by!r}")
    values = table[by].to_numpy()
    if by == "cluster":
        order = sorted(set(values.tolist()))
    else:
        counts = pd.Series(values).value_counts(sort=True)
        order = sorted(counts.index, key=lambda v: (v == "unknown", -counts[v], str(v)))
    out, spare = [], iter(PALETTE * (1 + len(order) // len(PALETTE)))
    for value in order:
        rows = np.flatnonzero(values == value)
        if value == "unknown":
            colour = UNKNOWN
        elif by == "color":
            colour = garment_colour(value) or next(spare)
        else:
            colour = next(spare)
        label = f"cluster {value}" if by == "cluster" else str(value)
        out.append(Group(f"{label} ({len(rows)})", str(value), rows, colour))
    return out
