"""Garment masking: keep only clothing pixels before embedding.

With a colour-coded segmentation mask (DeepFashion-MultiModal palette) the garment labels are
kept and background, hair, face and skin are blanked. Without one, a background-removal
fallback for product photos flood-fills the near-plain border colour; it never blanks the
whole picture (too much or too little removed -> the original is returned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.taxonomy import BODY_LABELS, SEGMENT_COLORS, SEGMENT_INDEX

DROP_LABELS: tuple[str, ...] = ("background", *BODY_LABELS)
FILL = (255, 255, 255)
_PALETTE = np.array(list(SEGMENT_COLORS.values()), dtype=np.int32)


@dataclass(frozen=True)
class MaskResult:
    image: Image.Image
    method: str  # "mask" | "background" | "none"
    kept: float  # fraction of pixels kept


def garment_pixels(mask: Image.Image | np.ndarray, *, drop: tuple[str, ...] = DROP_LABELS,
                   tolerance: float = 40.0) -> np.ndarray:
    """Boolean H x W: pixels whose mask colour is within ``tolerance`` of a garment label.

    Pixels far from every palette colour (anti-aliased or JPEG-damaged edges) count as dropped.
    """
    arr = np.asarray(mask)
    if arr.ndim == 2:  # label-index mask
        return ~np.isin(arr, [SEGMENT_INDEX[n] for n in drop])
    flat = arr[..., :3].reshape(-1, 3).astype(np.int32)
    keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    uniq, inverse = np.unique(keys, return_inverse=True)  # masks have few distinct colours
    rgb = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1)
    d = ((rgb[:, None, :] - _PALETTE[None]) ** 2).sum(axis=2)
    nearest = d.argmin(axis=1)
    close = np.sqrt(d[np.arange(len(uniq)), nearest]) <= tolerance
    keep = close & ~np.isin(nearest, [SEGMENT_INDEX[n] for n in drop])
    return keep[inverse.reshape(-1)].reshape(arr.shape[:2])


def apply_mask(img: Image.Image, mask: Image.Image, *, drop: tuple[str, ...] = DROP_LABELS,
               tolerance: float = 40.0, fill: tuple[int, int, int] = FILL) -> MaskResult:
    """Blank every non-garment pixel of ``img`` using a colour-coded mask."""
    if mask.size != img.size:
        mask = mask.resize(img.size, Image.NEAREST)
    if mask.mode not in ("L", "P"):
        mask = mask.convert("RGB")
    elif mask.mode == "P":
        mask = mask.convert("RGB")
    keep = garment_pixels(mask, drop=drop, tolerance=tolerance)
    if not keep.any():  # a mask without garment pixels would blank everything
        return MaskResult(img, "none", 1.0)
    return MaskResult(_composite(img, keep, fill), "mask", float(keep.mean()))


def remove_background(img: Image.Image, *, threshold: float = 38.0, max_removed: float = 0.9,
                      min_removed: float = 0.02, max_border_spread: float = 45.0,
                      fill: tuple[int, int, int] = FILL) -> MaskResult:
    """Flood-fill the border colour away on plain-background photos; otherwise keep all."""
    keep = foreground_pixels(img, threshold=threshold, max_removed=max_removed,
                             min_removed=min_removed, max_border_spread=max_border_spread)
    if keep is None:
        return MaskResult(img, "none", 1.0)
    return MaskResult(_composite(img, keep, fill), "background", float(keep.mean()))


def foreground_pixels(img: Image.Image, *, threshold: float = 38.0, max_removed: float = 0.9,
                      min_removed: float = 0.02, max_border_spread: float = 45.0
                      ) -> np.ndarray | None:
    """Boolean H x W of the non-background pixels of a plain-background photo, or None when
    the background is busy or removing it would take too much or too little."""
    from scipy import ndimage

    arr = np.asarray(img.convert("RGB")).astype(np.float32)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    ref = np.median(border, axis=0)
    spread = np.median(np.linalg.norm(border - ref, axis=1))
    if spread > max_border_spread:  # busy background: nothing safe to remove
        return None
    near = np.linalg.norm(arr - ref, axis=2) <= threshold
    labels, _ = ndimage.label(near)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, edge_labels[edge_labels > 0])
    removed = float(background.mean())
    if removed > max_removed or removed < min_removed:
        return None
    return ndimage.binary_fill_holes(~background)


def mask_image(img: Image.Image, mask: Image.Image | None = None, *,
               enabled: bool = True) -> MaskResult:
    """The per-request switch: mask when a mask exists, else background removal, else as is."""
    if not enabled:
        return MaskResult(img, "none", 1.0)
    if mask is not None:
        return apply_mask(img, mask)
    return remove_background(img)


def _composite(img: Image.Image, keep: np.ndarray, fill: tuple[int, int, int]) -> Image.Image:
    arr = np.asarray(img.convert("RGB")).copy()
    arr[~keep] = fill
    return Image.fromarray(arr)
