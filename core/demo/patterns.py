"""Fabric textures: each pattern as a float RGB image (0..1) in garment coordinates.

The texture is computed on the garment's own canvas before it is posed, so a re-render of
the same item (another variant) shows the same print at the same place on the garment.
"""

from __future__ import annotations

import numpy as np

from core.taxonomy import COLORS, luminance

# Print colours offered for each base colour's luminance class.
_LIGHT_ON_DARK = ("white", "beige", "yellow", "pink", "light blue", "mint")
_DARK_ON_LIGHT = ("navy", "black", "red", "burgundy", "dark green", "brown", "blue")


def grid(px: int, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Unit coordinates (u, v) of the pixels of ``box`` on a px×px canvas."""
    x0, y0, x1, y1 = box
    u = (np.arange(x0, x1, dtype=np.float32) + 0.5) / px
    v = (np.arange(y0, y1, dtype=np.float32) + 0.5) / px
    return np.broadcast_to(u[None, :], (y1 - y0, x1 - x0)), np.broadcast_to(v[:, None],
                                                                            (y1 - y0, x1 - x0))


def accent_colour(base: str, sv) -> str:
    """The print colour that goes with a base colour (stable for one product line)."""
    options = _LIGHT_ON_DARK if luminance(base) < 0.45 else _DARK_ON_LIGHT
    options = tuple(o for o in options if o != base)
    return options[0] if sv[8] < 0.55 else options[int(sv[9] * len(options))]


def _rgb(name: str) -> np.ndarray:
    return np.array(COLORS[name].rgb, dtype=np.float32) / 255.0


def _mix(base: np.ndarray, accent: np.ndarray, m: np.ndarray) -> np.ndarray:
    return base[None, None] * (1 - m[..., None]) + accent[None, None] * m[..., None]


def _stripes(u, v, sv) -> np.ndarray:
    angle = (0.0, 0.0, 0.0, np.pi / 2, np.pi / 4)[int(sv[10] * 5)]
    period = 0.03 + sv[11] * 0.045
    duty = 0.22 + sv[12] * 0.18
    t = (v * np.cos(angle) + u * np.sin(angle)) / period + sv[13]
    return ((t % 1.0) < duty).astype(np.float32)


def _checks(u, v, sv) -> np.ndarray:
    period = 0.05 + sv[11] * 0.05
    width = 0.3 + sv[12] * 0.15
    h = (((v / period) + sv[13]) % 1.0) < width
    w = (((u / period) + sv[14]) % 1.0) < width
    m = 0.45 * h + 0.45 * w
    fine = (((u / period) + sv[14] + 0.62) % 1.0) < 0.06
    return np.clip(m + 0.3 * fine, 0, 1).astype(np.float32)


def _dots(u, v, sv) -> np.ndarray:
    s = 0.04 + sv[11] * 0.035
    r = s * (0.2 + sv[12] * 0.12)
    row = np.floor(v / s)
    uu = u / s + 0.5 * (row % 2) + sv[13]
    du = (uu % 1.0 - 0.5) * s
    dv = ((v / s) % 1.0 - 0.5) * s
    return ((du * du + dv * dv) < r * r).astype(np.float32)


def _floral(u, v, sv, pattern_seed: int):
    """Petal mask and flower-centre mask of a scattered small-flower print."""
    s = 0.075 + sv[11] * 0.05
    rng = np.random.default_rng(pattern_seed)
    n = int(1.0 / s) + 3
    jit = rng.uniform(-0.25, 0.25, size=(n, n, 2)).astype(np.float32)
    rot = rng.uniform(0, 2 * np.pi, size=(n, n)).astype(np.float32)
    gi = np.clip(np.floor(u / s).astype(int), 0, n - 1)
    gj = np.clip(np.floor(v / s).astype(int), 0, n - 1)
    du = (u / s - gi - 0.5 - jit[gj, gi, 0]) * s
    dv = (v / s - gj - 0.5 - jit[gj, gi, 1]) * s
    rad = np.sqrt(du * du + dv * dv)
    theta = np.arctan2(dv, du) + rot[gj, gi]
    big = s * 0.36
    petal = rad < big * (0.55 + 0.45 * np.abs(np.cos(2.5 * theta)))
    centre = rad < big * 0.25
    return petal.astype(np.float32), centre.astype(np.float32)


def _denim(u, v, base: np.ndarray, pattern_seed: int, px: int) -> np.ndarray:
    rng = np.random.default_rng(pattern_seed)
    h, w = u.shape
    twill = 0.5 + 0.5 * np.sin((u + v) * px * 0.9)
    streak = rng.normal(0, 1, size=w).astype(np.float32)
    streak = np.convolve(streak, np.ones(5, dtype=np.float32) / 5, mode="same")[None, :]
    fleck = rng.random((h, w), dtype=np.float32) > 0.985
    fade = np.exp(-(((u - 0.5) / 0.18) ** 2 + ((v - 0.55) / 0.3) ** 2))
    k = 0.9 + 0.08 * twill + 0.05 * streak + 0.12 * fade
    out = base[None, None] * k[..., None]
    out = out + fleck[..., None] * 0.18
    return np.clip(out, 0, 1)


def _graphic(u, v, anchor, size: float, sv) -> np.ndarray:
    du, dv = (u - anchor[0]) / size, (v - anchor[1]) / size
    r = np.sqrt(du * du + dv * dv)
    kind = int(sv[15] * 5)
    if kind == 0:  # ring with a dot
        m = ((r > 0.7) & (r < 0.95)) | (r < 0.35)
    elif kind == 1:  # five-point star
        th = np.arctan2(dv, du)
        m = r < 0.55 + 0.4 * np.cos(5 * th) ** 8
    elif kind == 2:  # block letters as bars
        bars = (np.abs(dv) < 0.28) & (np.abs(du) < 1.3) & ((((du + 1.3) / 0.4) % 1.0) < 0.6)
        m = bars | ((np.abs(dv + 0.55) < 0.08) & (np.abs(du) < 1.3))
    elif kind == 3:  # diamond
        m = (np.abs(du) + np.abs(dv)) < 0.9
    else:  # sun burst
        th = np.arctan2(dv, du)
        m = (r < 0.45) | ((r < 1.0) & (np.cos(12 * th) > 0.6))
    return m.astype(np.float32)


def texture(pattern: str, colour: str, px: int, box, sv, pattern_seed: int,
            anchor=(0.5, 0.4), motif: float = 0.12) -> np.ndarray:
    """The fabric of one garment over ``box`` of a px×px canvas: float32 h×w×3 in 0..1."""
    u, v = grid(px, box)
    base = _rgb(colour)
    accent = _rgb(accent_colour(colour, sv))
    if pattern == "striped":
        return _mix(base, accent, _stripes(u, v, sv))
    if pattern == "checked":
        return _mix(base, accent, _checks(u, v, sv))
    if pattern == "dotted":
        return _mix(base, accent, _dots(u, v, sv))
    if pattern == "floral":
        petal, centre = _floral(u, v, sv, pattern_seed)
        heart = _rgb("white" if colour == "yellow" else "yellow")
        out = _mix(base, accent, petal)
        return out * (1 - centre[..., None]) + heart[None, None] * centre[..., None]
    if pattern == "denim":
        return _denim(u, v, base, pattern_seed, px)
    out = np.broadcast_to(base, (*u.shape, 3)).astype(np.float32)
    if pattern == "graphic":
        out = _mix(base, accent, _graphic(u, v, anchor, motif, sv))
    return out
