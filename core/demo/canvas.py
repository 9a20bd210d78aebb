"""Drawing surfaces for one garment in unit-square coordinates (0..1, y down).

A shape function draws the garment's coverage (``fill``), cut-outs (``cut``), darker detail
lines and bands (``line``/``band``), fixed-colour trims such as soles and buttons (``trim_*``)
and, when a model is shown, skin/face/hair under the garment (``body_*``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

from core.taxonomy import SEGMENT_INDEX

Point = tuple[float, float]


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 12) -> list:
    """Points on an elliptical arc from angle a0 to a1 (degrees, 0 = +x, 90 = +y/down)."""
    out = []
    for i in range(n + 1):
        a = math.radians(a0 + (a1 - a0) * i / n)
        out.append((cx + rx * math.cos(a), cy + ry * math.sin(a)))
    return out


def mirror(points: Sequence[Point], cx: float = 0.5) -> list[Point]:
    """Points mirrored about the vertical line x = cx, in reverse order (closes a polygon)."""
    return [(2 * cx - x, y) for x, y in reversed(points)]


class Canvas:
    """Layers of one garment drawing at ``px``×``px`` pixels."""

    def __init__(self, px: int):
        self.px = px
        self.alpha = Image.new("L", (px, px), 0)
        self.shade = Image.new("L", (px, px), 255)  # multiplicative shading, 255 = none
        self.trim = Image.new("RGBA", (px, px), (0, 0, 0, 0))
        self.body = Image.new("RGB", (px, px), (0, 0, 0))
        self.body_label = Image.new("L", (px, px), 0)
        self._a = ImageDraw.Draw(self.alpha)
        self._s = ImageDraw.Draw(self.shade)
        self._t = ImageDraw.Draw(self.trim)
        self._b = ImageDraw.Draw(self.body)
        self._bl = ImageDraw.Draw(self.body_label)
        self.anchor: Point = (0.5, 0.4)  # where a graphic print is centred
        self.motif = 0.12  # graphic print size (unit)
        self.has_trim = False

    def _p(self, pts: Sequence[Point]) -> list[tuple[float, float]]:
        s = self.px
        return [(x * s, y * s) for x, y in pts]

    def _box(self, box: Sequence[float]) -> list[float]:
        x0, y0, x1, y1 = (v * self.px for v in box)
        return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]

    def _w(self, width: float) -> int:
        return max(1, round(width * self.px))

    # garment coverage
    # Garment fills also clear earlier trims: what is drawn last is on top.
    def fill(self, pts: Sequence[Point]) -> None:
        self._a.polygon(self._p(pts), fill=255)
        self._t.polygon(self._p(pts), fill=(0, 0, 0, 0))

    def fill_ellipse(self, box: Sequence[float]) -> None:
        self._a.ellipse(self._box(box), fill=255)
        self._t.ellipse(self._box(box), fill=(0, 0, 0, 0))

    def fill_line(self, pts: Sequence[Point], width: float) -> None:
        self._a.line(self._p(pts), fill=255, width=self._w(width), joint="curve")
        self._t.line(self._p(pts), fill=(0, 0, 0, 0), width=self._w(width), joint="curve")

    def cut(self, pts: Sequence[Point]) -> None:
        self._a.polygon(self._p(pts), fill=0)
        self._t.polygon(self._p(pts), fill=(0, 0, 0, 0))

    def cut_ellipse(self, box: Sequence[float]) -> None:
        self._a.ellipse(self._box(box), fill=0)

    # shading details (drawn on the garment, darker where tone < 255)
    def line(self, pts: Sequence[Point], width: float = 0.006, tone: int = 150) -> None:
        self._s.line(self._p(pts), fill=tone, width=self._w(width), joint="curve")

    def band(self, pts: Sequence[Point], tone: int = 215) -> None:
        self._s.polygon(self._p(pts), fill=tone)

    def dot(self, x: float, y: float, r: float, tone: int = 120) -> None:
        self._s.ellipse(self._box((x - r, y - r, x + r, y + r)), fill=tone)

    # fixed-colour trims (part of the garment, not patterned)
    def trim_poly(self, pts: Sequence[Point], rgb: tuple[int, int, int]) -> None:
        self._a.polygon(self._p(pts), fill=255)
        self._t.polygon(self._p(pts), fill=(*rgb, 255))
        self.has_trim = True

    def trim_ellipse(self, box: Sequence[float], rgb: tuple[int, int, int]) -> None:
        self._a.ellipse(self._box(box), fill=255)
        self._t.ellipse(self._box(box), fill=(*rgb, 255))
        self.has_trim = True

    def trim_line(self, pts: Sequence[Point], width: float, rgb: tuple[int, int, int]) -> None:
        self._a.line(self._p(pts), fill=255, width=self._w(width), joint="curve")
        self._t.line(self._p(pts), fill=(*rgb, 255), width=self._w(width), joint="curve")
        self.has_trim = True

    # the model under the garment
    def body_poly(self, label: str, pts: Sequence[Point], rgb: tuple[int, int, int]) -> None:
        self._b.polygon(self._p(pts), fill=rgb)
        self._bl.polygon(self._p(pts), fill=SEGMENT_INDEX[label])

    def body_ellipse(self, label: str, box: Sequence[float], rgb: tuple[int, int, int]) -> None:
        self._b.ellipse(self._box(box), fill=rgb)
        self._bl.ellipse(self._box(box), fill=SEGMENT_INDEX[label])

    def body_line(self, label: str, pts: Sequence[Point], width: float, rgb) -> None:
        self._b.line(self._p(pts), fill=rgb, width=self._w(width), joint="curve")
        self._bl.line(self._p(pts), fill=SEGMENT_INDEX[label], width=self._w(width),
                      joint="curve")
