"""Batch augmentation on cached uint8 tensors (cheap on CPU, no PIL in the training loop).

Colour is a label, so only brightness and contrast are jittered, never hue or saturation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_resized_crop(batch: torch.Tensor, size: int, gen: torch.Generator,
                        scale: tuple[float, float] = (0.35, 1.0),
                        ratio: tuple[float, float] = (0.75, 1.333)) -> torch.Tensor:
    """Per-sample random crop of an area fraction in ``scale``, resized to ``size``."""
    n, _, h, w = batch.shape
    area = torch.empty(n).uniform_(*scale, generator=gen) * h * w
    logr = torch.empty(n).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=gen)
    aspect = torch.exp(logr)
    cw = torch.sqrt(area * aspect).round().clamp(8, w).long()
    ch = torch.sqrt(area / aspect).round().clamp(8, h).long()
    x0 = (torch.rand(n, generator=gen) * (w - cw + 1).float()).long()
    y0 = (torch.rand(n, generator=gen) * (h - ch + 1).float()).long()
    out = torch.empty(n, batch.shape[1], size, size, dtype=torch.float32)
    src = batch.float()
    for i in range(n):
        crop = src[i:i + 1, :, y0[i]:y0[i] + ch[i], x0[i]:x0[i] + cw[i]]
        out[i] = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False,
                               antialias=True)[0]
    return out


def augment(batch_u8: torch.Tensor, size: int, gen: torch.Generator, *,
            strength: float = 1.0) -> torch.Tensor:
    """uint8 N x 3 x S x S -> float 0..1 N x 3 x size x size: crop, flip, light jitter, erase."""
    lo = 1.0 - 0.65 * strength
    x = random_resized_crop(batch_u8, size, gen, scale=(lo, 1.0)).div_(255)
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x[flip] = x[flip].flip(-1)
    bright = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.5 * strength
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.5 * strength
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean) * bright
    _erase(x, gen, p=0.4 * strength)
    return x.clamp_(0, 1)


def _erase(x: torch.Tensor, gen: torch.Generator, p: float) -> None:
    """Random erasing (cutout with mean grey) of one rectangle in a fraction p of the images."""
    n, _, h, w = x.shape
    for i in torch.nonzero(torch.rand(n, generator=gen) < p).flatten().tolist():
        eh = int(h * float(torch.empty(1).uniform_(0.15, 0.4, generator=gen)))
        ew = int(w * float(torch.empty(1).uniform_(0.15, 0.4, generator=gen)))
        y0 = int(torch.randint(0, h - eh + 1, (1,), generator=gen))
        x0 = int(torch.randint(0, w - ew + 1, (1,), generator=gen))
        x[i, :, y0:y0 + eh, x0:x0 + ew] = 0.5


def center_resize(batch_u8: torch.Tensor, size: int) -> torch.Tensor:
    """Evaluation path: whole image resized to ``size``, float 0..1."""
    x = batch_u8.float().div_(255)
    if x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=True)
