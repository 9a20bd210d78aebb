"""Composition model: (reference image embedding, feedback text embedding) -> query embedding.

A gated residual combiner in the spirit of TIRG and CLIP4Cir's Combiner: the reference vector is
kept through a learned per-dimension gate and a residual computed from both inputs is added,
so "same but red" moves the query only along what the text asks for. The output lives in the
catalog's image-embedding space (L2-normalised). A learnable temperature scales the logits
of the batch classification loss (FashionVLP).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from core.models.blob import WeightsError as WeightsError
from core.models.blob import load_blob, save_blob, state_of

FORMAT = "feedback-combiner/1"


@dataclass
class CombinerConfig:
    img_dim: int = 128
    txt_dim: int = 384
    hidden: int = 512
    dropout: float = 0.1
    text_tower: str = "minilm"
    image_model: str = "studio_encoder"


class Combiner(nn.Module):
    """Gated residual composition of an image and a text vector."""

    def __init__(self, cfg: CombinerConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.img_in = nn.Sequential(nn.Linear(cfg.img_dim, h), nn.ReLU(), nn.Dropout(cfg.dropout))
        self.txt_in = nn.Sequential(nn.Linear(cfg.txt_dim, h), nn.ReLU(), nn.Dropout(cfg.dropout))
        self.gate = nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Linear(h, cfg.img_dim),
                                  nn.Sigmoid())
        self.res = nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(h, cfg.img_dim))
        self.weights = nn.Parameter(torch.tensor([1.0, 1.0]))  # gate path, residual path
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, img: torch.Tensor, txt: torch.Tensor) -> torch.Tensor:
        z = torch.cat([self.img_in(img), self.txt_in(txt)], dim=1)
        out = self.weights[0] * self.gate(z) * img + self.weights[1] * self.res(z)
        return F.normalize(out, dim=1)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=100.0)


class TextProjection(nn.Module):
    """Text-only baseline: a linear map of the text vector into the image space."""

    def __init__(self, txt_dim: int, img_dim: int):
        super().__init__()
        self.proj = nn.Linear(txt_dim, img_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, _img: torch.Tensor | None, txt: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.proj(txt), dim=1)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=100.0)


def batch_classification_loss(query: torch.Tensor, targets: torch.Tensor, scale: torch.Tensor,
                              target_ids: torch.Tensor | None = None) -> torch.Tensor:
    """InfoNCE over the batch's targets; rows sharing a target id are not used as negatives."""
    logits = scale * query @ targets.T
    if target_ids is not None:
        same = target_ids[:, None] == target_ids[None, :]
        same.fill_diagonal_(False)
        logits = logits.masked_fill(same, float("-inf"))
    labels = torch.arange(len(query), device=query.device)
    return F.cross_entropy(logits, labels)


def save_combiner(path: Path, model: Combiner, *, text_baseline: TextProjection | None = None,
                  meta: dict[str, Any] | None = None, half: bool = False) -> str:
    """Write the weights (+ the text-only baseline) atomically; returns the sha256.

    ``half`` stores float16 (half the file; loading converts back to float32).
    """
    blob = {"format": FORMAT, "config": asdict(model.cfg), "state_dict": state_of(model, half),
            "meta": meta or {}}
    if text_baseline is not None:
        blob["text_baseline"] = state_of(text_baseline, half)
    return save_blob(path, blob)


def _float(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def load_combiner(path: Path) -> tuple[Combiner, TextProjection | None, dict[str, Any]]:
    """(combiner in eval mode, text-only baseline or None, meta) from a weights file."""
    blob = load_blob(path, FORMAT, kind="a feedback combiner file",
                     missing=f"no feedback model at {path}: run `python -m core train feedback`")
    cfg = CombinerConfig(**blob["config"])
    model = Combiner(cfg)
    model.load_state_dict(_float(blob["state_dict"]))
    model.eval()
    baseline = None
    if "text_baseline" in blob:
        baseline = TextProjection(cfg.txt_dim, cfg.img_dim)
        baseline.load_state_dict(_float(blob["text_baseline"]))
        baseline.eval()
    return model, baseline, dict(blob.get("meta") or {})
