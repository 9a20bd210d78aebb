"""Training of the compatibility network on frozen item features, outfit by outfit.

Each epoch sees the split's compatible outfits, its broken ones (complete ones only: a missing
piece is not a clash) and fresh random-swap negatives; BCE on the outfit logit with the classes
balanced; Adam + ReduceLROnPlateau on the validation AUC; the best epoch's weights are kept and
training stops after ``patience`` epochs without a better one. Seconds per epoch on a CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from core.outfits.data import NoOutfitData, Outfit, complete, padded, swap_negatives
from core.outfits.evaluate import auc, model_scores
from core.outfits.features import HIST_DIM, META_DIM, CatalogFeatures
from core.outfits.model import CompatConfig, CompatNet
from core.outfits.train_config import CompatibilityTrainConfig
from core.training import BestWeights, TrainResult, run_epochs, train_steps


def trainable(outfits: list[Outfit], feats: CatalogFeatures, split: str) -> list[Outfit]:
    families = feats.families
    return [o for o in outfits if o.split == split and (o.label or complete(o, families))]


def _tensors(batch: list[Outfit], feats: CatalogFeatures):
    v, h, present = padded(batch, feats)
    return torch.from_numpy(v), torch.from_numpy(h), torch.from_numpy(present)


def hide_facts(h: torch.Tensor, share: float) -> torch.Tensor:
    """Side features (B, N, 31) with the facts of about ``share`` of the items zeroed, so that
    the model also learns to judge pieces whose season and gender are unknown (photos)."""
    if share <= 0:
        return h
    keep = (torch.rand(h.shape[:2]) >= share).to(h.dtype).unsqueeze(-1)
    return torch.cat([h[..., :HIST_DIM], h[..., HIST_DIM:] * keep], dim=-1)


def _epoch_examples(train: list[Outfit], feats: CatalogFeatures, rng: np.random.Generator,
                    swaps: int) -> tuple[list[Outfit], torch.Tensor]:
    """The split's outfits plus fresh swap negatives, and the positive-class weight that
    balances the two classes in the loss."""
    data = train + swap_negatives([o for o in train if o.label], feats, rng, swaps)
    n_pos = sum(o.label for o in data)
    return data, torch.tensor((len(data) - n_pos) / max(n_pos, 1))


def _batches(data: list[Outfit], order: np.ndarray, size: int):
    """The epoch's outfits in ``order``, ``size`` at a time (a last single outfit is left out:
    a batch of one has no contrast)."""
    for start in range(0, len(order), size):
        batch = [data[int(i)] for i in order[start:start + size]]
        if len(batch) >= 2:
            yield batch


def train_compatibility(feats: CatalogFeatures, outfits: list[Outfit], kind: str,
                        cfg: CompatibilityTrainConfig, *, image_model: str = "studio_encoder",
                        on_epoch: Callable[[dict], None] | None = None
                        ) -> tuple[CompatNet, TrainResult]:
    """Train one network (``kind`` siamese | mlp) on the train split, select on val: the
    best validation epoch's weights are the model returned."""
    train = trainable(outfits, feats, "train")
    val = trainable(outfits, feats, "val")
    if not any(o.label for o in train) or not val or len({o.label for o in val}) < 2:
        raise NoOutfitData("training needs compatible outfits in the train split and both "
                           "compatible and broken outfits in the val split")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = CompatNet(CompatConfig(img_dim=feats.vectors.shape[1], dropout=cfg.dropout,
                                   kind=kind, image_model=image_model,
                                   meta_dim=META_DIM if cfg.facts else 0))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5,
                                                         patience=max(1, cfg.patience // 3))

    def batch_loss(batch: list[Outfit], pos_weight: torch.Tensor) -> torch.Tensor:
        v, h, present = _tensors(batch, feats)
        if cfg.noise > 0:
            v = torch.nn.functional.normalize(v + cfg.noise * torch.randn_like(v), dim=2)
        if cfg.facts:
            h = hide_facts(h, cfg.facts_dropout)
        logit, _ = model(v, h, present)
        y = torch.tensor([float(o.label) for o in batch])
        return torch.nn.functional.binary_cross_entropy_with_logits(logit, y,
                                                                    pos_weight=pos_weight)

    def train_epoch(epoch: int) -> dict:
        t0 = time.perf_counter()
        data, pos_weight = _epoch_examples(train, feats, rng, cfg.swaps)
        order = rng.permutation(len(data))
        losses = train_steps(model, _batches(data, order, cfg.batch_size),
                             lambda b: batch_loss(b, pos_weight), opt, epoch=epoch).losses
        return {"loss": round(float(np.mean(losses)), 4), "examples": len(data),
                "seconds": round(time.perf_counter() - t0, 2)}

    def validate(_row: dict) -> dict:
        score = auc([o.label for o in val], model_scores(model, feats, val))
        plateau.step(score)
        return {"val_auc": round(score, 4), "lr": opt.param_groups[0]["lr"]}

    result = run_epochs(train_epoch, epochs=cfg.epochs, validate=validate, score_key="val_auc",
                        best=BestWeights(model), on_epoch=on_epoch, patience=cfg.patience)
    model.eval()
    return model, result
