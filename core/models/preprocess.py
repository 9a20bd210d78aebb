"""Image preprocessing shared by every backbone: load, pad to square, resize, normalise."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class PreprocessCfg:
    """How a backbone wants its input: square pad, then resize to ``size``, then normalise."""

    size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    pad: str = "edge"  # "edge" (median border colour) | "white" | "none" (squash)

    def to_dict(self) -> dict:
        return {"size": self.size, "mean": list(self.mean), "std": list(self.std), "pad": self.pad}


def load_rgb(source, *, name: str | None = None):
    """An RGB PIL image from a path or bytes; uses the ingest helper when it is installed."""
    try:
        from core.images import load_image
    except ImportError:
        load_image = None
    if load_image is not None:
        return load_image(source, name=name)
    from PIL import Image, ImageOps

    fh = io.BytesIO(source) if isinstance(source, bytes | bytearray) else Path(source).open("rb")
    with fh:
        img = Image.open(fh)
        img = ImageOps.exif_transpose(img)
        return img.convert("RGB")


def border_colour(img) -> tuple[int, int, int]:
    """Median colour of the one-pixel border: the background of most product photos."""
    a = np.asarray(img.convert("RGB"))
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    return tuple(int(v) for v in np.median(border, axis=0))


def pad_square(img, pad: str = "edge"):
    """Pad to a square canvas so tall garments are not squashed (CLIP4Cir's SquarePad)."""
    if pad == "none" or img.width == img.height:
        return img
    fill = (255, 255, 255) if pad == "white" else border_colour(img)
    try:
        from core.images import square_pad
    except ImportError:
        square_pad = None
    if square_pad is not None:
        return square_pad(img, fill)
    from PIL import Image

    side = max(img.size)
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    return canvas


def to_uint8_square(img, size: int, pad: str = "edge") -> np.ndarray:
    """Pad, resize (bilinear, antialiased) and return an HxWx3 uint8 array."""
    from PIL import Image

    img = pad_square(img.convert("RGB"), pad)
    return np.asarray(img.resize((size, size), Image.BILINEAR, reducing_gap=2.0))


def make_transform(cfg: PreprocessCfg) -> Callable:
    """PIL image -> normalised float tensor 3 x size x size."""
    import torch

    mean = torch.tensor(cfg.mean).view(3, 1, 1)
    std = torch.tensor(cfg.std).view(3, 1, 1)

    def transform(img) -> torch.Tensor:
        arr = to_uint8_square(img, cfg.size, cfg.pad)
        t = torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255)
        return (t - mean) / std

    return transform


def normalise_batch(batch01, cfg: PreprocessCfg):
    """Float N x 3 x H x W tensor in 0..1 -> normalised with the backbone's mean and std."""
    import torch

    mean = torch.tensor(cfg.mean, device=batch01.device).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std, device=batch01.device).view(1, 3, 1, 1)
    return (batch01 - mean) / std
