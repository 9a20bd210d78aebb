"""The Siamese compatibility network (on frozen image vectors) and its baseline.

``siamese``: each item's vector goes through one shared branch; a pair is read as the Hadamard
product of the two branch outputs plus the items' side features (colour histograms and, for
models trained with them, the catalog's season and gender; their product and absolute
difference), then FC(256) + BatchNorm + ReLU + Dropout(0.5), FC(64) + BatchNorm + ReLU +
Dropout(0.5), FC(1). ``mlp`` is the CompatibilityMLP baseline: the same head on the concatenated
vectors and side features, averaged over both orders. An outfit's logit is the soft minimum of its
pair logits: one clashing pair is enough to break a look, and the weakest pair says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.models.blob import WeightsError as WeightsError
from core.models.blob import load_blob, save_blob, state_of

FORMAT = "fashion-studio-compat/1"
KINDS = ("siamese", "mlp")


@dataclass
class CompatConfig:
    img_dim: int = 128
    hist_dim: int = 24
    meta_dim: int = 0  # catalog facts after the histogram (0: a model that reads pictures only)
    branch: int = 256
    hidden: tuple[int, int] = (256, 64)
    dropout: float = 0.5
    kind: str = "siamese"
    image_model: str = "studio_encoder"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        self.hidden = tuple(int(h) for h in self.hidden)

    @property
    def side_dim(self) -> int:
        return self.hist_dim + self.meta_dim


def _head(in_dim: int, hidden: tuple[int, int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(in_dim, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
        in_dim = h
    return nn.Sequential(*layers, nn.Linear(in_dim, 1))


class CompatNet(nn.Module):
    def __init__(self, cfg: CompatConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.kind == "siamese":
            self.branch = nn.Sequential(nn.Linear(cfg.img_dim, cfg.branch), nn.ReLU())
            in_dim = cfg.branch + 2 * cfg.side_dim
        else:
            self.branch = None
            in_dim = 2 * (cfg.img_dim + cfg.side_dim)
        self.head = _head(in_dim, cfg.hidden, cfg.dropout)

    def pair_logits(self, va: torch.Tensor, ha: torch.Tensor, vb: torch.Tensor,
                    hb: torch.Tensor) -> torch.Tensor:
        """Logits (P,) of P pairs given as rows: vectors (P, d), side features (P, >= side_dim;
        a model reads the first ``side_dim``: one without facts reads the histogram only)."""
        ha, hb = ha[:, :self.cfg.side_dim], hb[:, :self.cfg.side_dim]
        if self.branch is not None:
            x = torch.cat([self.branch(va) * self.branch(vb), ha * hb, (ha - hb).abs()], dim=1)
            return self.head(x)[:, 0]
        ab = self.head(torch.cat([va, vb, ha, hb], dim=1))[:, 0]
        ba = self.head(torch.cat([vb, va, hb, ha], dim=1))[:, 0]
        return (ab + ba) / 2

    def forward(self, v: torch.Tensor, h: torch.Tensor, present: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Outfit logits (B,) and pair logits (B, P) of padded outfits.

        v (B, N, d), h (B, N, side features), present (B, N) bool. Pairs are the upper
        triangle of N x N (``torch.triu_indices(N, N, 1)``); pairs with a padding slot hold +inf.
        """
        n = v.shape[1]
        iu = torch.triu_indices(n, n, 1, device=v.device)
        valid = present[:, iu[0]] & present[:, iu[1]]
        logits = torch.full(valid.shape, float("inf"), device=v.device)
        if valid.any():
            logits[valid] = self.pair_logits(v[:, iu[0]][valid], h[:, iu[0]][valid],
                                             v[:, iu[1]][valid], h[:, iu[1]][valid])
        return soft_min(logits), logits


def soft_min(pair_logits: torch.Tensor) -> torch.Tensor:
    """-log mean exp(-x) over each row's finite entries: the minimum, softened (equal to x when
    all pairs agree). A row without pairs gives 0 (no evidence either way)."""
    finite = torch.isfinite(pair_logits)
    count = finite.sum(dim=1)
    x = torch.where(finite, -pair_logits, torch.full_like(pair_logits, float("-inf")))
    out = -(torch.logsumexp(x, dim=1) - torch.log(count.clamp(min=1).float()))
    return torch.where(count > 0, out, torch.zeros_like(out))


def save_compat(path: Path, model: CompatNet, *, baseline: CompatNet | None = None,
                meta: dict[str, Any] | None = None) -> str:
    """Write the model (+ the MLP baseline) atomically; returns the file's sha256."""
    blob: dict[str, Any] = {"format": FORMAT, "config": asdict(model.cfg),
                            "state_dict": state_of(model), "meta": meta or {}}
    if baseline is not None:
        blob["baseline"] = {"config": asdict(baseline.cfg), "state_dict": state_of(baseline)}
    return save_blob(path, blob)


def _build(config: dict, state: dict) -> CompatNet:
    model = CompatNet(CompatConfig(**config))
    model.load_state_dict(state)
    return model.eval()


def load_compat(path: Path) -> tuple[CompatNet, CompatNet | None, dict[str, Any]]:
    """(model in eval mode, MLP baseline or None, meta) from a weights file."""
    blob = load_blob(path, FORMAT, kind="an outfit compatibility file",
                     missing=f"no outfit compatibility model at {path}: run `python -m core "
                             "train compat` (or restore weights/compat.pt)")
    model = _build(blob["config"], blob["state_dict"])
    base = blob.get("baseline")
    baseline = _build(base["config"], base["state_dict"]) if base else None
    return model, baseline, dict(blob.get("meta") or {})
