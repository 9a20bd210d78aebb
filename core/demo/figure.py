"""The optional model under a garment: head and hair, neck, arms, legs and feet.

Drawn as skin/face/hair (their own parsing labels) beneath the garment, so that masking the
garment out of the picture is a real step rather than a no-op.
"""

from __future__ import annotations

import math

from core.demo.canvas import Canvas

SKIN_TONES = ((241, 203, 178), (224, 172, 138), (198, 140, 102), (160, 104, 72),
              (118, 76, 52), (88, 57, 40))
HAIR_COLOURS = ((24, 20, 18), (62, 40, 26), (112, 74, 40), (196, 160, 96), (140, 56, 30),
                (170, 170, 170))


def make_model(rng) -> dict:
    """A model's look: skin and hair colours, hair length."""
    return {
        "skin": SKIN_TONES[int(rng.integers(len(SKIN_TONES)))],
        "hair": HAIR_COLOURS[int(rng.integers(len(HAIR_COLOURS)))],
        "long_hair": bool(rng.random() < 0.5),
    }


def head(cv: Canvas, model: dict, cx: float, neck_y: float, scale: float = 1.0) -> None:
    """Neck, face and hair above a neckline at (cx, neck_y)."""
    s = scale
    skin, hair = model["skin"], model["hair"]
    fy = neck_y - 0.115 * s
    if model["long_hair"]:
        cv.body_poly("hair", [(cx - 0.075 * s, fy - 0.02 * s), (cx + 0.075 * s, fy - 0.02 * s),
                              (cx + 0.09 * s, neck_y + 0.06 * s),
                              (cx - 0.09 * s, neck_y + 0.06 * s)], hair)
    cv.body_ellipse("hair", (cx - 0.068 * s, fy - 0.085 * s, cx + 0.068 * s, fy + 0.03 * s), hair)
    cv.body_poly("skin", [(cx - 0.028 * s, fy + 0.04 * s), (cx + 0.028 * s, fy + 0.04 * s),
                          (cx + 0.034 * s, neck_y + 0.03 * s),
                          (cx - 0.034 * s, neck_y + 0.03 * s)], skin)
    cv.body_ellipse("face", (cx - 0.052 * s, fy - 0.062 * s, cx + 0.052 * s, fy + 0.07 * s), skin)
    cv.body_ellipse("hair", (cx - 0.058 * s, fy - 0.075 * s, cx + 0.058 * s, fy - 0.03 * s), hair)


def limb(cv: Canvas, model: dict, start: tuple[float, float], angle_deg: float, length: float,
         w0: float, w1: float, end: str = "hand") -> None:
    """An arm or leg from ``start`` pointing down at ``angle_deg`` from vertical (+ = right)."""
    a = math.radians(angle_deg)
    dx, dy = math.sin(a), math.cos(a)
    px, py = -dy, dx  # perpendicular
    x0, y0 = start
    x1, y1 = x0 + dx * length, y0 + dy * length
    pts = [(x0 + px * w0 / 2, y0 + py * w0 / 2), (x1 + px * w1 / 2, y1 + py * w1 / 2),
           (x1 - px * w1 / 2, y1 - py * w1 / 2), (x0 - px * w0 / 2, y0 - py * w0 / 2)]
    cv.body_poly("skin", pts, model["skin"])
    r = w1 * 0.75
    if end == "hand":
        hx, hy = x1 + dx * r * 0.8, y1 + dy * r * 0.8
        cv.body_ellipse("skin", (hx - r, hy - r * 1.2, hx + r, hy + r * 1.2), model["skin"])
    elif end == "foot":
        cv.body_ellipse("skin", (x1 - r * 1.1, y1 - r * 0.6, x1 + r * 1.9, y1 + r * 0.8),
                        model["skin"])


def legs(cv: Canvas, model: dict, top_y: float, xs: tuple[float, float], bottom_y: float = 0.985,
         width: float = 0.07, splay: float = 3.0) -> None:
    """Two legs from ``top_y`` at the given x centres down to ``bottom_y`` with feet."""
    length = bottom_y - top_y
    if length <= 0.01:
        return
    for x, sign in ((xs[0], -1), (xs[1], 1)):
        limb(cv, model, (x, top_y), sign * splay, length, width, width * 0.55, end="foot")
