"""Render one demo garment: a product photo and its colour-coded segmentation mask.

``render_item(spec, variant)`` draws the garment of ``spec`` (category, attrs, render seeds)
on a supersampled canvas, textures and shades it, optionally puts it on a model, then poses
it (scale, position, small rotation, flip) over a background. ``variant=0`` is the catalog
shot; ``variant>0`` shows the same garment (same shape and print) in a new pose, light and
scene, which is what a shopper's query photo looks like.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from core.demo import figure, scene
from core.demo.canvas import Canvas
from core.demo.draws import discrete_draws
from core.demo.patterns import grid, texture
from core.demo.shapes_acc import draw_bag, draw_hat, draw_shoes
from core.demo.shapes_lower import draw_bottom
from core.demo.shapes_upper import draw_full, draw_outer, draw_top
from core.taxonomy import BODY_LABELS, CATEGORIES, SEGMENT_COLORS, SEGMENT_INDEX

DRAWERS = {"top": draw_top, "outer": draw_outer, "full": draw_full, "bottom": draw_bottom,
           "shoes": draw_shoes, "bag": draw_bag, "hat": draw_hat}
PALETTE = np.array(list(SEGMENT_COLORS.values()), dtype=np.uint8)
SUPERSAMPLE = 2
_BODY_IDS = [SEGMENT_INDEX[n] for n in BODY_LABELS]


def render_seeds(spec: dict) -> tuple[int, int]:
    """(scene seed, shape seed) of an item; items without a ``render`` block get stable
    seeds from their sku, so any catalog record can be drawn."""
    render = spec.get("render") or {}
    fallback = zlib.crc32(str(spec.get("sku", spec.get("name", ""))).encode("utf-8"))
    seed = int(render.get("seed", fallback))
    return seed, int(render.get("shape_seed", seed))


def style_vector(spec: dict) -> np.ndarray:
    """The garment's stable style draws (shape details, print layout)."""
    return np.random.default_rng([render_seeds(spec)[1], 1]).random(24)


def look_alike_key(spec: dict, details: bool = True) -> tuple:
    """What an eye that reads the drawing's discrete choices sees in any picture of an item:
    category and the drawn attributes (season is not drawn), plus with ``details`` the
    discrete shape draws (``draws.discrete_draws``: neckline, waistband, sole, sandal straps,
    bag and hat kind, hardware) and, for printed items, the print layout (each print is its
    own key). Left out: the continuous width draws (shoulder, neck, strap, waist), which move
    an edge by at most 1 % of the canvas but can, at their extremes, change a garment's
    proportions as much as a fit step. Items sharing a key look alike to such an eye."""
    cat, attrs = spec["category"], spec.get("attrs", {})
    drawn = tuple(attrs.get(k) for k in ("color", "pattern", "sleeve", "length", "fit"))
    if not details:
        return (cat, *drawn)
    shape = discrete_draws(cat, CATEGORIES[cat].family, attrs, style_vector(spec))
    if attrs.get("pattern", "solid") != "solid":
        shape += (render_seeds(spec)[1],)
    return (cat, *drawn, *shape)


def labels_to_rgb(labels: np.ndarray) -> Image.Image:
    """Colour-code a label-index array with the DeepFashion-MultiModal palette."""
    img = Image.fromarray(labels.astype(np.uint8, copy=False), "P")
    img.putpalette(PALETTE.tobytes())
    return img.convert("RGB")


def render_item(spec: dict, variant: int = 0, size: int = 256) -> tuple[Image.Image, Image.Image]:
    """(RGB image, colour-coded RGB mask) of one item, both size×size."""
    cat, attrs = spec["category"], spec["attrs"]
    seed, _ = render_seeds(spec)
    sv = style_vector(spec)
    rng = np.random.default_rng([seed, int(variant), 2])
    pv = rng.random(8)
    p_model = 0.3 if variant == 0 else 0.5
    model = figure.make_model(rng) if rng.random() < p_model else None
    px = size * SUPERSAMPLE
    cv = Canvas(px)
    DRAWERS[CATEGORIES[cat].family](cv, cat, attrs, sv, pv, model)
    rgba, labels = _garment_layer(cv, spec, sv, rng, px)
    return _stage(rgba, labels, rng, variant, size)


def _shading(rng, alpha_img: Image.Image, px: int, box) -> np.ndarray:
    """Multiplicative light: ambient occlusion at the edges, folds, a directional gradient."""
    h, w = alpha_img.height, alpha_img.width
    # Blur a quarter-size copy: the occlusion is smooth, full-size blurring wastes time.
    small = alpha_img.reduce(4).filter(ImageFilter.GaussianBlur(px * 0.005))
    blur = np.asarray(small.resize((w, h), Image.Resampling.BILINEAR),
                      dtype=np.float32) / 255.0
    ao = 0.86 + 0.14 * np.clip(blur * 1.6 - 0.3, 0, 1)
    folds_1d = scene.value_noise(rng, (2, w), int(rng.integers(5, 10)))[0]
    folds = 1.0 - 0.08 * np.clip(folds_1d - 0.4, 0, 1)[None, :] / 0.6
    blotch = 0.96 + 0.07 * scene.value_noise(rng, (h, w), 5)
    u, v = grid(px, box)
    ang = rng.uniform(0, 2 * math.pi)
    light = 1.0 + 0.1 * ((u - 0.5) * math.cos(ang) + (v - 0.5) * math.sin(ang))
    return ao * folds * blotch * light


def _crop_box(cv: Canvas, px: int) -> tuple[int, int, int, int]:
    boxes = [b for b in (cv.alpha.getbbox(), cv.body_label.getbbox()) if b]
    pad = max(4, px // 32)
    return (max(0, min(b[0] for b in boxes) - pad), max(0, min(b[1] for b in boxes) - pad),
            min(px, max(b[2] for b in boxes) + pad), min(px, max(b[3] for b in boxes) + pad))


def _garment_layer(cv: Canvas, spec: dict, sv, rng, px: int) -> tuple[Image.Image, np.ndarray]:
    """RGBA layer (garment over model) and its label map, cropped to the drawn figure."""
    attrs = spec["attrs"]
    box = _crop_box(cv, px)
    alpha_img = cv.alpha.crop(box)
    alpha8 = np.asarray(alpha_img)
    rgb = texture(attrs["pattern"], attrs["color"], px, box, sv, render_seeds(spec)[1],
                  anchor=cv.anchor, motif=cv.motif)
    if cv.has_trim:
        trim = np.asarray(cv.trim.crop(box), dtype=np.float32) / 255.0
        ta = trim[..., 3:4]
        rgb = rgb * (1 - ta) + trim[..., :3] * ta
    light = _shading(rng, alpha_img, px, box)
    factor = light * (np.asarray(cv.shade.crop(box), dtype=np.float32) / 255.0)
    rgb = rgb * factor[..., None]
    rgb += 0.06 * np.clip(scene.value_noise(rng, alpha8.shape, 6) - 0.6, 0, 1)[..., None]
    seg = SEGMENT_INDEX[CATEGORIES[spec["category"]].segment]
    body_img = cv.body_label.crop(box)
    if body_img.getbbox():
        body_labels = np.asarray(body_img)
        body = np.asarray(cv.body.crop(box), dtype=np.float32) / 255.0
        body *= (0.92 + 0.08 * light)[..., None]
        a = (alpha8.astype(np.float32) / 255.0)[..., None]
        rgb = body + (rgb - body) * a
        alpha_img = ImageChops.lighter(alpha_img, body_img.point(lambda v: 255 if v else 0))
        labels = np.where(alpha8 >= 128, seg, body_labels).astype(np.uint8)
    else:
        labels = np.where(alpha8 >= 128, seg, 0).astype(np.uint8)
    np.clip(rgb, 0, 1, out=rgb)
    layer = Image.fromarray((rgb * 255 + 0.5).astype(np.uint8), "RGB")
    layer.putalpha(alpha_img)
    return layer, labels


def _pose(rng, variant: int) -> dict:
    if variant == 0:
        return {"scale": rng.uniform(0.74, 0.9), "angle": rng.uniform(-4, 4),
                "shift": rng.uniform(-0.03, 0.03, 2), "flip": False}
    return {"scale": rng.uniform(0.5, 0.92), "angle": rng.uniform(-16, 16),
            "shift": rng.uniform(-0.13, 0.13, 2), "flip": bool(rng.random() < 0.35)}


def _stage(rgba: Image.Image, labels: np.ndarray, rng, variant: int,
           size: int) -> tuple[Image.Image, Image.Image]:
    """Pose the layer over a background; returns the final photo and its mask."""
    pose = _pose(rng, variant)
    gy, gx = np.nonzero((labels > 0) & ~np.isin(labels, _BODY_IDS))
    x0, x1, y0, y1 = gx.min(), gx.max() + 1, gy.min(), gy.max() + 1
    lab = Image.fromarray(labels, "L")
    if pose["flip"]:
        rgba = rgba.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        lab = lab.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x0, x1 = rgba.width - x1, rgba.width - x0
    f = pose["scale"] * size / max(x1 - x0, y1 - y0)
    new = (max(1, round(rgba.width * f)), max(1, round(rgba.height * f)))
    layer = rgba.convert("RGBa").resize(new, Image.Resampling.BICUBIC)
    layer = layer.rotate(pose["angle"], Image.Resampling.BILINEAR, expand=True).convert("RGBA")
    lab = lab.resize(new, Image.Resampling.NEAREST).rotate(
        pose["angle"], Image.Resampling.NEAREST, expand=True)
    cx, cy = (x0 + x1) / 2 * f - new[0] / 2, (y0 + y1) / 2 * f - new[1] / 2
    a = math.radians(pose["angle"])
    px_ = math.cos(a) * cx + math.sin(a) * cy + layer.width / 2
    py_ = -math.sin(a) * cx + math.cos(a) * cy + layer.height / 2
    tx, ty = size / 2 + pose["shift"][0] * size, size / 2 + pose["shift"][1] * size
    off = (round(tx - px_), round(ty - py_))
    kinds = scene.CATALOG_KINDS if variant == 0 else scene.QUERY_KINDS
    kind = str(rng.choice(list(kinds), p=list(kinds.values())))
    mean_rgb = np.asarray(layer, dtype=np.float32)[..., :3][np.asarray(lab) > 0].mean(axis=0)
    bg = scene.background(rng, size, kind, mean_rgb / 255.0)
    bg = _drop_shadow(bg, layer, off, size)
    photo = Image.fromarray((np.clip(bg, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
    photo.paste(layer, off, layer)
    mask = Image.new("L", (size, size), 0)
    mask.paste(lab, off, lab.point(lambda v: 255 if v else 0))
    photo = _camera(photo, rng, variant)
    return photo, labels_to_rgb(np.asarray(mask))


def _drop_shadow(bg: np.ndarray, layer: Image.Image, off: tuple[int, int], size: int):
    canvas = Image.new("L", (size, size), 0)
    shift = (off[0] + round(size * 0.015), off[1] + round(size * 0.025))
    canvas.paste(layer.getchannel("A"), shift)
    small = canvas.reduce(2).filter(ImageFilter.GaussianBlur(size * 0.0125))
    shadow = np.asarray(small.resize((size, size), Image.Resampling.BILINEAR),
                        dtype=np.float32) / 255.0
    return bg * (1.0 - 0.28 * shadow[..., None])


def _camera(photo: Image.Image, rng, variant: int) -> Image.Image:
    """Exposure, white balance and sensor noise; query shots are a little rougher."""
    rough = 1.0 if variant == 0 else 2.0
    arr = np.asarray(photo, dtype=np.float32)
    gain = 1.0 + rng.uniform(-0.04, 0.04) * rough
    tint = 1.0 + rng.uniform(-0.02, 0.02, 3) * rough
    noise = rng.standard_normal((*arr.shape[:2], 1), dtype=np.float32) * (1.5 * rough)
    arr *= (gain * tint).astype(np.float32)
    arr += noise
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if variant and rng.random() < 0.3:
        out = out.filter(ImageFilter.GaussianBlur(0.6))
    return out
