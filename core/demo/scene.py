"""Backgrounds behind a garment: studio plain, gradient, textured surfaces and clutter."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

STUDIO = ((246, 246, 244), (236, 236, 238), (240, 234, 224), (228, 232, 236),
          (222, 222, 222), (244, 238, 240), (232, 238, 230))
SURFACES = {
    "wood": ((150, 104, 66), (188, 142, 96), (112, 78, 52), (206, 176, 136)),
    "concrete": ((150, 150, 148), (176, 174, 170), (122, 124, 126)),
    "linen": ((214, 204, 186), (190, 196, 204), (204, 190, 196), (160, 172, 160)),
    "tiles": ((220, 220, 215), (84, 96, 110), (196, 210, 214)),
}
CLUTTER = ((210, 60, 50), (40, 110, 190), (240, 190, 40), (60, 150, 90), (130, 80, 160),
           (230, 130, 60), (30, 30, 30), (250, 250, 250), (150, 110, 70), (90, 170, 180),
           (200, 120, 160), (120, 120, 120))

# Background kinds and their weights for catalog shots (variant 0) and query shots.
CATALOG_KINDS = {"plain": 0.5, "gradient": 0.25, "texture": 0.15, "cluttered": 0.1}
QUERY_KINDS = {"plain": 0.15, "gradient": 0.15, "texture": 0.35, "cluttered": 0.35}


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def value_noise(rng, size: int | tuple[int, int], cells: int) -> np.ndarray:
    """Smooth noise in 0..1 (size×size, or (h, w)) from a cells×cells random grid."""
    h, w = (size, size) if isinstance(size, int) else size
    small = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC),
                      dtype=np.float32) / 255.0


def _plain(rng, size: int) -> np.ndarray:
    c = np.array(_pick(rng, STUDIO), dtype=np.float32) / 255.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    vignette = 1.0 - 0.08 * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2
    return c[None, None] * vignette[..., None]


def _gradient(rng, size: int) -> np.ndarray:
    a = np.array(_pick(rng, STUDIO), dtype=np.float32) / 255.0
    b = np.array(_pick(rng, CLUTTER + STUDIO), dtype=np.float32) / 255.0
    b = 0.55 * b + 0.45 * a
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    ang = rng.uniform(0, 2 * np.pi)
    t = np.clip((xx - 0.5) * np.cos(ang) + (yy - 0.5) * np.sin(ang) + 0.5, 0, 1)
    return a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]


def _texture(rng, size: int) -> np.ndarray:
    kind = _pick(rng, tuple(SURFACES))
    c = np.array(_pick(rng, SURFACES[kind]), dtype=np.float32) / 255.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if kind == "wood":
        planks = np.floor(yy * rng.integers(4, 8))
        grain = value_noise(rng, size, 6) * 0.5 + 0.5 * np.sin(xx * 60 + planks * 3.1
                                                                + value_noise(rng, size, 4) * 8)
        shade = 0.85 + 0.15 * grain + 0.04 * (planks % 2)
        seams = (((yy * rng.integers(4, 8)) % 1.0) < 0.015) * -0.25
        k = shade + seams
    elif kind == "concrete":
        k = 0.85 + 0.2 * value_noise(rng, size, 12) + 0.08 * rng.random((size, size))
    elif kind == "linen":
        k = 0.92 + 0.05 * np.sin(xx * size * 1.3) * np.sin(yy * size * 1.3) \
            + 0.06 * value_noise(rng, size, 8)
    else:
        n = rng.integers(4, 9)
        grout = (((xx * n) % 1.0) < 0.03) | (((yy * n) % 1.0) < 0.03)
        k = 0.95 + 0.05 * value_noise(rng, size, 5) - 0.3 * grout
    return np.clip(c[None, None] * k[..., None], 0, 1)


def _clutter(rng, base: np.ndarray) -> np.ndarray:
    size = base.shape[0]
    img = Image.fromarray((np.clip(base, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(5, 14))):
        colour = tuple(int(c) for c in _pick(rng, CLUTTER))
        x, y = rng.uniform(-0.1, 1.0, 2) * size
        w, h = rng.uniform(0.08, 0.4, 2) * size
        kind = int(rng.integers(4))
        if kind == 0:
            draw.rectangle([x, y, x + w, y + h], fill=colour)
        elif kind == 1:
            draw.ellipse([x, y, x + w, y + h], fill=colour)
        elif kind == 2:
            pts = [(x + rng.uniform(0, w), y + rng.uniform(0, h)) for _ in range(3)]
            draw.polygon(pts, fill=colour)
        else:
            draw.line([x, y, x + w, y + h], fill=colour, width=max(2, size // 40))
    return np.asarray(img, dtype=np.float32) / 255.0


def background(rng, size: int, kind: str, garment_rgb: np.ndarray) -> np.ndarray:
    """A size×size float RGB background of one kind, kept apart from the garment colour."""
    if kind == "plain":
        bg = _plain(rng, size)
    elif kind == "gradient":
        bg = _gradient(rng, size)
    elif kind == "texture":
        bg = _texture(rng, size)
    else:
        bg = _clutter(rng, _texture(rng, size) if rng.random() < 0.5 else _plain(rng, size))
    mean = bg.reshape(-1, 3).mean(axis=0)
    if np.abs(mean - garment_rgb).sum() < 0.3:
        # Too close to the garment: push the background the other way in lightness.
        if garment_rgb.mean() > 0.5:
            bg = bg * 0.6
        else:
            bg = 1.0 - (1.0 - bg) * 0.35
    return bg.astype(np.float32)
