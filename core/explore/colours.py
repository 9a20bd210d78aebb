"""Colours for map groups: the garments' real colours for 'color', a fixed palette otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colors as mcolors

COLOR_BY = ("cluster", "category", "color", "pattern", "season")
UNKNOWN = "#bdbdbd"
# 40 colours that stay apart: tab10 (without its grey, kept for "unknown"), then colours
# picked greedily from an HSV grid to be as far as possible (CIEDE2000) from those before,
# from the white background and from UNKNOWN. Any 23 groups (every category of the
# taxonomy) differ by a CIEDE2000 distance of 16 or more.
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#000066", "#1a6657", "#665c00", "#79f2b6", "#660033", "#0030f2", "#cc007a",
    "#f28579", "#79aaf2", "#146600", "#79f200", "#661400", "#334266", "#269982", "#f2c279",
    "#998a4c", "#8a0099", "#995c00", "#005266", "#008a99", "#cc8f00", "#66401a", "#da00f2",
    "#cc667a", "#cc5200", "#79f2f2", "#99263d", "#573366", "#e6f279", "#cc8f66", "#00cc66",
]


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
