"""Triplet loss with online mining (batch-hard, semi-hard) and the partial-label category loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

MINING = ("batch_hard", "semi_hard")


def triplet_loss(emb: torch.Tensor, labels: torch.Tensor, margin: float = 0.2,
                 mining: str = "batch_hard") -> torch.Tensor:
    """Triplet loss over a batch of L2-normalised embeddings, triplets mined in the batch.

    batch_hard: per anchor, the farthest positive and the closest negative (Hermans et al.).
    semi_hard: per anchor-positive pair, the closest negative still farther than the positive
    (FaceNet); falls back to the hardest negative when none is.
    """
    if mining not in MINING:
        raise ValueError(f"mining must be one of {MINING}, got {mining!r}")
    dist = torch.cdist(emb, emb).clamp_min(1e-12)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=emb.device)
    pos_mask = same & ~eye
    neg_mask = ~same
    valid = pos_mask.any(1) & neg_mask.any(1)
    if not valid.any():
        return emb.sum() * 0.0
    inf = torch.finfo(dist.dtype).max
    if mining == "batch_hard":
        hardest_pos = dist.masked_fill(~pos_mask, 0).amax(1)
        hardest_neg = dist.masked_fill(~neg_mask, inf).amin(1)
        return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()
    # semi-hard: for every positive pair (a, p), the closest negative with d(a,n) > d(a,p)
    d_ap = dist[:, :, None]
    d_an = dist[:, None, :]
    semi = neg_mask[:, None, :] & (d_an > d_ap)
    semi_neg = d_an.masked_fill(~semi, inf).amin(2)
    hardest_neg = dist.masked_fill(~neg_mask, inf).amin(1, keepdim=True).expand_as(semi_neg)
    neg = torch.where(semi_neg < inf, semi_neg, hardest_neg)
    losses = F.relu(dist - neg + margin)[pos_mask & neg_mask.any(1, keepdim=True)]
    return losses.mean() if losses.numel() else emb.sum() * 0.0


def group_cross_entropy(logits: torch.Tensor, groups: torch.Tensor,
                        smoothing: float = 0.0) -> torch.Tensor:
    """Partial-label loss: -log of the probability mass on the allowed categories.

    ``groups`` is a 0/1 matrix (batch x categories); a one-hot row is plain cross-entropy.
    Label smoothing mixes in the mean negative log-probability over all categories.
    """
    logp = F.log_softmax(logits, dim=1)
    group_logp = torch.logsumexp(logp.masked_fill(groups <= 0, float("-inf")), dim=1)
    loss = -group_logp
    if smoothing:
        loss = (1 - smoothing) * loss - smoothing * logp.mean(1)
    return loss.mean()
