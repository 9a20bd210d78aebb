"""A photo's colour from two experts: the image encoder's colour head and a pixel classifier.

The pixel classifier is a multinomial logistic regression on statistics of the garment's
pixels (the reader's garment region, skin dropped): the share of pixels nearest each palette
colour, lightness / redness / blueness percentiles (raw and relative to lightness), the
backdrop's colour and the two largest colour clusters. It is trained on labelled real photos
(``python -m core train colour``) and shipped as ``weights/colour_pixels.json``. It sees what
the encoder's last blocks blur (shade, blueness of dark garments); the two readings are
combined as a product of their probabilities (a product of experts, no tuned weight).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.progress import Progress
from core.tagging import colour as C
from core.tagging.lab import to_lab

log = logging.getLogger(__name__)

PIXEL_MODEL_FILE = "colour_pixels.json"
FEATURES = "garment-pixels-v2"
QUANTILES = (0.1, 0.5, 0.9)
HIST_PIXELS = 600  # pixels named for the palette-share histogram
EPS = 1e-6


def _quantiles(x: np.ndarray, w: np.ndarray) -> list[float]:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    at = np.searchsorted(cum, QUANTILES).clip(0, len(x) - 1)
    return [float(v) for v in x[order][at]]


def pixel_features(image: Image.Image, mask: Any = None, *, region=None) -> np.ndarray:
    """The pixel classifier's input for one photo (a fixed-length float vector); ``region``:
    its ``colour.photo_region`` when already found."""
    region = region if region is not None else C.photo_region(image.convert("RGB"), mask)
    keep = C._sample(len(region.rgb), C.MAX_PIXELS)
    lab = to_lab(region.rgb[keep])
    w = C.drop_skin(lab, region.weight[keep])
    if w.sum() <= 0:
        w = region.weight[keep]
    w = w / w.sum()
    few = C._sample(len(lab), HIST_PIXELS)  # CIEDE2000 to the palette is the costly part
    nearest = C.palette_distances(lab[few]).argmin(1)
    hist = np.bincount(nearest, weights=w[few], minlength=len(C.PALETTE))
    feats = list(hist / max(hist.sum(), EPS))
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    for x in (L, a, b, a / (L + 16), b / (L + 16), np.hypot(a, b) / (L + 16)):
        feats += _quantiles(x, w)
    backdrop = to_lab(region.border) if region.border is not None and len(region.border) \
        else lab
    feats += list(np.median(backdrop, axis=0))
    found = C.clusters(lab, w, None)[:2]
    total = sum(c.mass for c in found) or 1.0
    for i in range(2):
        feats += [*found[i].lab, found[i].mass / total] if i < len(found) else [0.0] * 4
    feats.append({"mask": 0.0, "background": 1.0, "centre": 2.0}[region.method])
    return np.asarray(feats, dtype=np.float64)


@dataclass
class PixelColourModel:
    """Standardised features -> softmax over ``names`` (a logistic regression's parameters)."""

    names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (len(names), n_features)
    intercept: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        """``colour_pixels:`` and the first 12 hex digits of the parameters' sha256."""
        import hashlib

        doc = json.dumps({k: v for k, v in self.to_json().items() if k != "meta"})
        return f"colour_pixels:{hashlib.sha256(doc.encode()).hexdigest()[:12]}"

    def probs(self, feats: np.ndarray) -> np.ndarray:
        """Probabilities over ``names`` for a (n, n_features) or (n_features,) array."""
        x = (np.atleast_2d(feats) - self.mean) / self.scale
        logits = x @ self.coef.T + self.intercept
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def distribution(self, image: Image.Image, mask: Any = None, *, region=None
                     ) -> dict[str, float]:
        feats = pixel_features(image, mask, region=region)
        return dict(zip(self.names, self.probs(feats)[0].tolist(), strict=True))

    def to_json(self) -> dict[str, Any]:
        return {"features": FEATURES, "names": self.names, "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept.tolist(), "meta": self.meta}

    def save(self, path: Path) -> None:
        tmp = Path(path).with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json()))
        tmp.replace(path)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PixelColourModel:
        if doc.get("features") != FEATURES:
            raise ValueError(f"pixel colour model for features {doc.get('features')!r}, this "
                             f"version computes {FEATURES!r}: retrain it (train colour)")
        arr = {k: np.asarray(doc[k], dtype=np.float64)
               for k in ("mean", "scale", "coef", "intercept")}
        return cls(list(doc["names"]), meta=dict(doc.get("meta") or {}), **arr)


@lru_cache(maxsize=4)
def _load(path: str, _mtime: float) -> PixelColourModel | None:
    try:
        return PixelColourModel.from_json(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("pixel colour model %s unusable (%s): reading colour without it", path, exc)
        return None


def load_pixel_model(weights_dir: Path) -> PixelColourModel | None:
    """The shipped pixel colour classifier, or None when ``weights_dir`` has none."""
    path = Path(weights_dir) / PIXEL_MODEL_FILE
    if not path.is_file():
        return None
    return _load(str(path), path.stat().st_mtime)


def _pipeline(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))


def out_of_fold_probs(features: np.ndarray, labels: Sequence[str], *, c: float = 0.1,
                      folds: int = 5, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """(colour names, per-photo probabilities over them), each photo read by a pixel
    classifier fitted on the other folds' photos (stratified; at most as many folds as the
    rarest colour has photos). Raises ValueError when a colour has fewer than two photos."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(labels)
    names, counts = np.unique(y, return_counts=True)
    if folds < 2 or counts.min() < 2:
        raise ValueError("out-of-fold readings need at least two folds and two labelled "
                         "photos of each colour")
    split = StratifiedKFold(min(folds, int(counts.min())), shuffle=True, random_state=seed)
    probs = cross_val_predict(_pipeline(c), features, y, cv=split, method="predict_proba")
    return [str(n) for n in names], probs


def fit_pixel_model(features: np.ndarray, labels: Sequence[str], *, c: float = 0.1,
                    folds: int = 5, seed: int = 0) -> tuple[PixelColourModel, float]:
    """A pixel colour classifier fitted on labelled photos' features, and its
    ``folds``-fold cross-validated accuracy on them (NaN when they are too few to fold)."""
    y = np.asarray(labels)
    cv = float("nan")
    try:
        names, probs = out_of_fold_probs(features, y, c=c, folds=folds, seed=seed)
        cv = float((np.asarray(names)[probs.argmax(1)] == y).mean())
    except ValueError:
        pass
    pipe = _pipeline(c).fit(features, y)
    scaler, lr = pipe[0], pipe[1]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = PixelColourModel([str(n) for n in lr.classes_], scaler.mean_, scale, lr.coef_,
                             lr.intercept_, {"c": c, "photos": len(y),
                                             "cv_accuracy": None if np.isnan(cv) else cv})
    return model, cv


def combined_distribution(head: dict[str, float] | None, pixels: dict[str, float] | None
                          ) -> dict[str, float] | None:
    """The two experts' product of probabilities, normalised (either may be missing); None
    when both are."""
    experts = [e for e in (head, pixels) if e]
    if not experts:
        return None
    names = sorted(set().union(*experts))
    logp = sum(np.log(np.array([e.get(n, 0.0) for n in names]) + EPS) for e in experts)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    return dict(zip(names, p.tolist(), strict=True))


def combine(head: dict[str, float] | None, pixels: dict[str, float] | None
            ) -> tuple[str, float] | None:
    """The colour named by the product of the two experts' probabilities (either may be
    missing), with its share of the product; None when both are."""
    dist = combined_distribution(head, pixels)
    if dist is None:
        return None
    name = max(dist, key=dist.__getitem__)
    return name, dist[name]


def photo_colour(image: Image.Image, head: dict[str, float] | None = None, *,
                 mask: Any = None, pixel_model: PixelColourModel | None = None
                 ) -> C.ColourReading:
    """A photo's colour. ``head``: the image encoder's colour distribution, passed only for an
    encoder that learnt colour from labelled real photos; ``pixel_model``: the pixel
    classifier. With either, the colour is their combined reading; with neither, the pixel
    reader's. The second colour comes from the pixel reader, and only when a mask outlines
    the garment: from an estimated region it is mostly backdrop or shading (on labelled real
    photos it named the labelled second colour for 5 % of the 425 train photos and 8 % of the
    110 validation photos it was given for)."""
    region = C.photo_region(image.convert("RGB"), mask)
    pixels = C.read_colour(image, region=region)
    if region.method != "mask":
        pixels = replace(pixels, second=None)
    dist = pixel_model.distribution(image, region=region) if pixel_model is not None else None
    combined = combined_distribution(head, dist)
    if combined is None:
        return pixels
    name = max(combined, key=combined.__getitem__)
    method = "+".join(m for m, e in (("encoder", head), ("pixels", dist)) if e)
    # the pixel reader's other colour: its second, or its first when the second is the name
    second = pixels.name if pixels.second == name else pixels.second
    share = pixels.share if pixels.name == name else 0.0
    likely = {n: round(p, 4) for n, p in combined.items() if p >= 0.001}
    return C.ColourReading(name, second, round(combined[name], 3), share, method, likely)


def query_colour(image: Image.Image, heads: dict, embedder, weights_dir: Path
                 ) -> C.ColourReading:
    """A query photo's colour as photo search and Refine read it: ``embedder``'s colour head
    reading (in ``heads``, when the encoder learnt colour from real photos) and the installed
    pixel classifier, combined."""
    head = heads.get("color_dist") if getattr(embedder, "reads_photo_colour", False) else None
    return photo_colour(image, head, pixel_model=load_pixel_model(weights_dir))


def labelled_features(photos: Sequence, progress: Progress | None = None) -> np.ndarray:
    """The pixel classifier's input for each labelled photo (anything with a ``path``)."""
    from core.tagging.evaluate import map_photos

    return np.stack(map_photos(photos, pixel_features, progress))


def train_pixel_model(data: Path, labels: Path, *, split: str = "train", c: float = 0.1,
                      progress: Progress | None = None) -> PixelColourModel:
    """Fit the pixel colour classifier on the labelled photos of ``split`` (the development
    labels; the validation labels stay for reporting)."""
    from core.tagging.evaluate import load_labels, photo_root

    root = photo_root(data, split)
    photos, left_out = load_labels(labels, root)
    if len({p.color for p in photos}) < 2:
        raise ValueError(f"{labels}: need labelled photos of at least two colours under {root}")
    model, _ = fit_pixel_model(labelled_features(photos, progress), [p.color for p in photos],
                               c=c)
    model.meta.update({"split": split, "labels": Path(labels).name, "left_out": left_out})
    return model
