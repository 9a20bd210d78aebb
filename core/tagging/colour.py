"""Garment colour reader: name the dominant (and a second) colour of a garment photo.

Pixels come from a colour-coded segmentation mask when one is given, else from background
removal (``core.models.masking.foreground_pixels``), else from a centre-weighted crop. Skin is
dropped when it is a minority, and the rest is clustered in CIELAB with lightness
down-weighted, so that a shadow joins its garment's cluster instead of forming a darker colour.
Each cluster's lit half is named by ``name_colour``: the nearest catalog palette colour in
CIEDE2000, except that muted cool colours (black, grey, white, navy, blue, light blue) are
named by blueness and lightness, because photographed navy and denim are far less saturated
than the palette's. White balance against the backdrop exists but is off (``WB_STRENGTH``):
on the development labels real backdrops (beds, floors) are rarely neutral. Colour maths
(sRGB -> CIELAB, D65; CIEDE2000) lives in ``core.tagging.lab``; ``nearest_palette`` and
``name_colour`` here are for reuse.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from core.tagging.lab import delta_e2000, linear_to_srgb, srgb_to_linear, to_lab
from core.taxonomy import COLORS, shade_relation

log = logging.getLogger(__name__)

SIDE = 112  # pixels of the longer side the reader works on (a read costs a few ms)
CLUSTERS = 5
LIGHTNESS_WEIGHT = 0.5  # L* counts half in clustering: shade changes L more than a, b
MAX_PIXELS = 2500  # clustering sample
SECOND_SHARE = 0.2  # a second colour needs this share of the garment
SHADE_SECOND_SHARE = 0.35  # ... and more when it is only a lighter/darker shade of the first
SKIN_MAX_SHARE = 0.5  # skin-toned pixels above this share are the garment itself
SHADOW_RATIO = 0.67  # (L*+16) ratio of a shadow to its lit part: linear light down to 0.3
SHADE_TOLERANCE = 0.08  # largest (a*, b*) / (L*+16) difference of two shades of one colour
WB_STRENGTH = 0.0  # share of a backdrop's colour cast removed (0.5-0.6 cost 1-3 points)
# Cool-colour naming thresholds, chosen on the development labels of clothing-small train photos
# (`python -m core eval colour --split train --labels data/eval/clothing_small_train_colors.json`).
BLUENESS = 0.1  # -b* / (L* + 16) (kept by shading) from which a cool neutral is blue
BLACK_MAX_L = 34.0  # a cool neutral up to this L* is black, ...
GREY_MAX_L = 70.0  # ... up to this grey, above it white
NAVY_MAX_L = 38.0  # a bluish colour below this L* is navy, ...
BLUE_MAX_L = 62.0  # ... below this blue, above it light blue
VIVID = 0.6  # chroma / (L* + 16) from which a colour keeps its CIEDE2000 name
METHOD_TRUST = {"mask": 1.0, "background": 0.9, "centre": 0.75}



@dataclass(frozen=True)
class ColourReading:
    name: str  # palette colour name
    second: str | None  # second palette colour of a two-colour garment, else None
    confidence: float  # 0..1
    share: float  # fraction of garment pixels that read as `name`
    method: str  # "mask" | "background" | "centre" | "encoder" ... | "stated" (by the shopper)
    # probability of each palette colour when a learnt reader gave a distribution, else None
    dist: dict[str, float] | None = None

    def probability(self, colour: str | None) -> float:
        """How likely the garment is ``colour``: its probability in ``dist``, else this
        reading's confidence when ``colour`` is the read name, else 0."""
        if not colour:
            return 0.0
        if self.dist is not None:
            return float(self.dist.get(colour, 0.0))
        return self.confidence if colour == self.name else 0.0

    def runner_up(self, at_least: float = 0.25) -> str | None:
        """The next likeliest colour when the distribution gives it ``at_least`` (a reading
        torn between navy and black), else None."""
        if not self.dist:
            return None
        others = [(p, n) for n, p in self.dist.items() if n != self.name]
        if not others:
            return None
        p, name = max(others)
        return name if p >= at_least else None

    def choices(self) -> list[str]:
        """Every palette colour, likeliest first: the read colour, the rest by their
        probability in ``dist``, then in palette order (what a shopper can correct it to)."""
        rank = {n: i for i, n in enumerate(PALETTE)}
        return sorted(PALETTE, key=lambda n: (n != self.name, -self.probability(n), rank[n]))

    @classmethod
    def stated(cls, name: str) -> ColourReading:
        """A colour the shopper named: certain, ranked by alone. Raises ValueError for a name
        outside the palette."""
        if name not in COLORS:
            raise ValueError(f"unknown colour {name!r}: one of {', '.join(COLORS)}")
        return cls(name, None, 1.0, 0.0, "stated", {name: 1.0})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the palette --------------------------------------------------------------------------
PALETTE: tuple[str, ...] = tuple(COLORS)
PALETTE_LAB = to_lab(np.array([COLORS[n].rgb for n in PALETTE], dtype=np.float64))


def palette_distances(lab: np.ndarray) -> np.ndarray:
    """CIEDE2000 from each Lab row (n x 3) to every palette colour (n x palette)."""
    return delta_e2000(np.asarray(lab, dtype=np.float64)[:, None, :], PALETTE_LAB[None])


_COOL_FAMILY = frozenset({"black", "grey", "white", "navy", "blue", "light blue"})


def name_colour(lab: np.ndarray) -> str:
    """Palette name of one Lab colour: the CIEDE2000-nearest palette colour, except that a
    muted colour of the cool family (black, grey, white, navy, blue, light blue) is named by
    its blueness (-b* / (L* + 16), which shading keeps) and lightness: photographed navy,
    denim and dusty blues are far less saturated than the palette's, so CIEDE2000 calls them
    black or grey."""
    lab = np.asarray(lab, dtype=np.float64)
    name = PALETTE[int(palette_distances(lab[None])[0].argmin())]
    L, a, b = lab
    if name not in _COOL_FAMILY or np.hypot(a, b) / (L + 16.0) >= VIVID:
        return name
    if -b / (L + 16.0) >= BLUENESS and -b > abs(a):
        return "navy" if L < NAVY_MAX_L else "blue" if L < BLUE_MAX_L else "light blue"
    return "black" if L <= BLACK_MAX_L else "grey" if L <= GREY_MAX_L else "white"


def nearest_palette(rgb: Any) -> str:
    """Name of the catalog palette colour nearest (CIEDE2000) to one sRGB triple."""
    lab = to_lab(np.asarray(rgb, dtype=np.float64).reshape(1, 3))
    return PALETTE[int(palette_distances(lab)[0].argmin())]


# -- garment pixels ---------------------------------------------------------------------------
@dataclass
class _Region:
    rgb: np.ndarray  # n x 3 garment pixels (0..255)
    weight: np.ndarray  # n
    reference: np.ndarray | None  # backdrop pixels for white balance (m x 3) or None
    border: np.ndarray | None  # border pixels, to down-weight background colours (centre)
    method: str


def _downscale(image: Image.Image) -> Image.Image:
    img = image.convert("RGB")
    if max(img.size) > SIDE:
        img = img.copy()
        img.thumbnail((SIDE, SIDE), Image.BILINEAR)
    return img


def _mask_keep(mask: Any, size: tuple[int, int]) -> np.ndarray | None:
    """Boolean garment pixels of a mask (colour-coded, label-index or boolean) at ``size``."""
    from core.models.masking import garment_pixels

    if isinstance(mask, np.ndarray) and mask.dtype == bool:
        mask = Image.fromarray(mask.astype(np.uint8) * 255)
        return np.asarray(mask.resize(size, Image.NEAREST)) > 0
    img = mask if isinstance(mask, Image.Image) else Image.fromarray(np.asarray(mask))
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    keep = garment_pixels(img.resize(size, Image.NEAREST))
    return keep if keep.any() else None


def _centre_weight(h: int, w: int, sigma: float = 0.3) -> np.ndarray:
    """Gaussian weight toward the picture's centre (sigma as a share of each side)."""
    y = (np.arange(h) - (h - 1) / 2) / (sigma * h)
    x = (np.arange(w) - (w - 1) / 2) / (sigma * w)
    return np.exp(-0.5 * (y[:, None] ** 2 + x[None, :] ** 2))


def _border(arr: np.ndarray, ring: float = 0.06) -> np.ndarray:
    """Pixels of the outer ring (``ring`` of each side) of an H x W x 3 array."""
    h, w = arr.shape[:2]
    r = max(1, int(round(ring * min(h, w))))
    edge = np.zeros((h, w), dtype=bool)
    edge[:r], edge[-r:], edge[:, :r], edge[:, -r:] = True, True, True, True
    return arr[edge]


def _away_from_edges(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(garment, backdrop) pixels a pixel away from their boundary, where downscaling and
    JPEG blend the two colours; the garment keeps its edge when it is too thin to lose it."""
    from scipy import ndimage

    inner = ndimage.binary_erosion(keep)
    outer = ~ndimage.binary_dilation(keep)
    return (inner if inner.sum() >= 0.3 * keep.sum() else keep), outer


def garment_region(image: Image.Image, mask: Any = None) -> _Region:
    """Garment pixels and weights by mask, else background removal, else centre weighting."""
    from core.models.masking import foreground_pixels

    arr = np.asarray(image, dtype=np.float64)
    keep = _mask_keep(mask, image.size) if mask is not None else None
    method = "mask"
    if keep is None:
        keep, method = foreground_pixels(image), "background"
    if keep is not None and keep.sum() >= 16:
        inner, outer = _away_from_edges(keep)
        return _Region(arr[inner], np.ones(int(inner.sum())), arr[outer], None, method)
    weight = _centre_weight(*arr.shape[:2]).ravel()
    border = _border(arr)
    return _Region(arr.reshape(-1, 3), weight, border, border, "centre")


# -- corrections ------------------------------------------------------------------------------
def white_balance(rgb: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Remove part of a colour cast read off a near-neutral backdrop (von Kries gains in linear
    light); a colourful or dark backdrop says nothing about the light and changes nothing."""
    if WB_STRENGTH <= 0 or reference is None or len(reference) < 16:
        return rgb
    ref_lin = np.median(srgb_to_linear(reference), axis=0)
    L, a, b = to_lab(linear_to_srgb(ref_lin))
    if L < 50 or not 2.0 < np.hypot(a, b) < 30.0:
        return rgb
    gains = np.clip((ref_lin.mean() / np.maximum(ref_lin, 1e-4)) ** WB_STRENGTH, 0.75, 1.33)
    return linear_to_srgb(srgb_to_linear(rgb) * gains)


def skin_like(lab: np.ndarray) -> np.ndarray:
    """Pixels in the skin-tone region of CIELAB (warm, moderately saturated, reddish-yellow)."""
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma, hue = np.hypot(a, b), np.degrees(np.arctan2(b, a))
    return (L > 25) & (L < 92) & (chroma > 10) & (chroma < 50) & (hue > 25) & (hue < 70) & (a > 7)


def drop_skin(lab: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weights with skin-toned pixels zeroed when they are a minority of the garment (a beige,
    brown or pink garment is mostly 'skin' coloured and keeps its pixels)."""
    skin = skin_like(lab)
    share = float(weight[skin].sum() / max(weight.sum(), 1e-9))
    return np.where(skin, 0.0, weight) if 0.0 < share <= SKIN_MAX_SHARE else weight


# -- clustering -------------------------------------------------------------------------------
def _features(lab: np.ndarray) -> np.ndarray:
    return lab * np.array([LIGHTNESS_WEIGHT, 1.0, 1.0])


def _nearest(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    return ((x * x).sum(1)[:, None] - 2 * x @ c.T + (c * c).sum(1)[None]).argmin(1)


def kmeans(x: np.ndarray, w: np.ndarray, k: int, *, iters: int = 8, seed: int = 0
           ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted k-means (k-means++ start, deterministic): (centres k x d, labels n)."""
    rng = np.random.default_rng(seed)
    centres = [x[rng.choice(len(x), p=w / w.sum())]]
    d = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, min(k, len(x))):
        p = d * w
        if p.sum() <= 0:
            break
        centres.append(x[rng.choice(len(x), p=p / p.sum())])
        d = np.minimum(d, ((x - centres[-1]) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(iters):
        labels = _nearest(x, c)
        mass = np.bincount(labels, weights=w, minlength=len(c))
        sums = np.stack([np.bincount(labels, weights=w * x[:, i], minlength=len(c))
                         for i in range(x.shape[1])], axis=1)
        live = mass > 0
        c[live] = sums[live] / mass[live, None]
    return c, _nearest(x, c)


def lit_colour(lab: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A cluster's colour from its lit half (pixels at or above its weighted median L*):
    shadows darken a garment, they never lighten it."""
    order = np.argsort(lab[:, 0])
    cum = np.cumsum(w[order])
    lit = order[cum >= cum[-1] / 2]
    return np.average(lab[lit], axis=0, weights=w[lit] + 1e-12)


@dataclass
class _Cluster:
    name: str
    mass: float
    lab: np.ndarray
    margin: float  # (second nearest - nearest) / their sum, in CIEDE2000


def _sample(n: int, k: int) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, k, replace=False))


def shade_groups(centres_lab: np.ndarray) -> np.ndarray:
    """Group ids joining clusters that are one colour in more and less light: shading scales
    linear RGB, which keeps (a*, b*) / (L* + 16) and changes L* + 16 by the cube root of the
    light ratio. Lightness ratios past a shadow's (white vs grey, blue vs navy) stay apart."""
    lift = centres_lab[:, 0] + 16.0
    chroma = centres_lab[:, 1:] / np.maximum(lift, 1e-6)[:, None]
    group = np.arange(len(centres_lab))
    for i in range(len(group)):
        for j in range(i + 1, len(group)):
            ratio = min(lift[i], lift[j]) / max(lift[i], lift[j], 1e-6)
            if ratio >= SHADOW_RATIO and np.linalg.norm(chroma[i] - chroma[j]) < SHADE_TOLERANCE:
                group[group == group[j]] = group[i]
    return group


def _edge_factor(centres: np.ndarray, labels: np.ndarray, border: np.ndarray | None
                 ) -> np.ndarray:
    """Per cluster: 1, less the more it fills the picture's edge relative to its size there
    (clusters much more common on the edge than overall are likely background)."""
    if border is None or not len(border):
        return np.ones(len(centres))
    k = len(centres)
    edge = np.bincount(_nearest(_features(border), centres), minlength=k) / len(border)
    overall = np.bincount(labels, minlength=k) / len(labels)
    return np.clip(1.0 - 0.75 * edge / np.maximum(overall, 1e-9), 0.1, 1.0)


def clusters(lab: np.ndarray, weight: np.ndarray, border: np.ndarray | None = None
             ) -> list[_Cluster]:
    """Named colour clusters of weighted Lab pixels (shades of one colour joined), largest
    first; with ``border`` (Lab of the picture's edge) background-like clusters count less."""
    live = weight > 0
    lab, weight = lab[live], weight[live]
    if len(lab) == 0:
        return []
    idx = _sample(len(lab), MAX_PIXELS)
    lab, weight = lab[idx], weight[idx]
    centres, labels = kmeans(_features(lab), weight, CLUSTERS)
    weight = weight * _edge_factor(centres, labels, border)[labels]
    groups = shade_groups(centres / np.array([LIGHTNESS_WEIGHT, 1.0, 1.0]))[labels]
    out = []
    for g in np.unique(groups):
        sel = groups == g
        if weight[sel].sum() <= 0:
            continue
        colour = lit_colour(lab[sel], weight[sel])
        near = np.sort(palette_distances(colour[None])[0])
        out.append(_Cluster(name_colour(colour), float(weight[sel].sum()), colour,
                            float((near[1] - near[0]) / max(near[1] + near[0], 1e-9))))
    return sorted(out, key=lambda c: -c.mass)


def summarise(found: list[_Cluster], method: str) -> ColourReading:
    """The reading: the heaviest palette name, a second one when it is a real part of the
    garment (not a shadow: shades of the first need a larger share), and a confidence."""
    shares: dict[str, float] = {}
    total = sum(c.mass for c in found) or 1.0
    for c in found:
        shares[c.name] = shares.get(c.name, 0.0) + c.mass / total
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    name, share = ranked[0]
    second = None
    for other, s in ranked[1:2]:
        needed = SHADE_SECOND_SHARE if shade_relation(name, other) else SECOND_SHARE
        second = other if s >= needed else None
    margin = next(c.margin for c in found if c.name == name)
    kept = share + (shares[second] if second else 0.0)
    confidence = np.sqrt(kept) * (0.5 + 0.5 * min(1.0, 2 * margin)) * METHOD_TRUST[method]
    return ColourReading(name, second, round(float(confidence), 3), round(float(share), 3),
                         method)


def photo_region(image: Image.Image, mask: Any = None) -> _Region:
    """The garment region of a photo at the reader's working size."""
    return garment_region(_downscale(image), mask)


def read_colour(image: Image.Image, *, mask: Any = None, region: _Region | None = None
                ) -> ColourReading:
    """Read a garment photo's dominant palette colour (and a second one) from its pixels
    (``region``: its ``photo_region`` when already found)."""
    region = region if region is not None else photo_region(image, mask)
    rgb = white_balance(region.rgb, region.reference)
    lab = to_lab(rgb)
    weight = drop_skin(lab, region.weight)
    border = None
    if region.border is not None:
        border = to_lab(white_balance(region.border, region.reference))
    found = clusters(lab, weight, border)
    if not found:  # everything was dropped: read the pixels as they are
        found = clusters(lab, region.weight, border)
    reading = summarise(found, region.method)
    log.debug("colour %s (%s) from %s pixels", reading.name, reading.method, len(rgb))
    return reading
