"""Neighbour-vote category prediction, fused with the classifier.

A query's k nearest labelled gallery items (cosine on the encoder's embedding) vote for their
categories, each with its similarity as weight; the fused prediction is the average of the
classifier's probabilities and that vote distribution. Labelled gallery items are, in the
product, catalog items whose category the user supplied; in the evaluation, the ``train/``
photos with their class folders.

The rule was fixed before any measurement, with no tuning (the encoder was fine-tuned on the
only labelled photos there are, so cross-validation on them would flatter the vote):

- ``k = 10``: the ten results a search shows, the same neighbours as the P@10 figure.
- weight of a neighbour = its cosine similarity, clipped at 0 (an item pointing away from the
  query says nothing about its category); the weights are normalised to sum to 1.
- fused = 0.5 * classifier + 0.5 * vote (a linear pool with equal weights). An average rather
  than a product: a 10-neighbour vote is exactly 0 for most categories, so a product would let
  the vote veto the classifier outright and could never pick a category the classifier does not
  know; the average keeps both opinions, degrades to the classifier alone when the vote is
  empty (no labelled gallery, or no neighbour with positive similarity), and lets a category
  known only to the catalog win when its neighbours agree strongly. Equal weights because
  there is no held-out data to set them on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.index.base import normalise
from core.search.ranking import top_indices

K = 10
VOTE_WEIGHT = 0.5


def neighbour_votes(q_emb: np.ndarray, g_emb: np.ndarray, g_labels: Sequence[str],
                    classes: Sequence[str], k: int = K) -> np.ndarray:
    """(queries x classes) similarity-weighted vote of each query's k nearest gallery items.

    Rows sum to 1, or are all 0 when there is no gallery or no neighbour with a positive
    cosine similarity. Equal similarities are ordered by gallery position (the earlier item is
    the nearer), so the result is deterministic. Gallery labels outside ``classes`` raise
    KeyError."""
    q_emb = np.atleast_2d(np.asarray(q_emb, dtype=np.float64))
    votes = np.zeros((len(q_emb), len(classes)))
    if len(g_labels) == 0 or k <= 0 or len(q_emb) == 0:
        return votes
    index = {c: j for j, c in enumerate(classes)}
    cols = np.array([index[c] for c in g_labels])
    sims = normalise(q_emb) @ normalise(g_emb).T
    k = min(k, sims.shape[1])
    near = np.stack([top_indices(row, k) for row in sims])  # partition, not a full sort
    weights = np.clip(np.take_along_axis(sims, near, axis=1), 0.0, None)
    rows = np.repeat(np.arange(len(q_emb)), k)
    np.add.at(votes, (rows, cols[near].ravel()), weights.ravel())
    total = votes.sum(1, keepdims=True)
    return np.divide(votes, total, out=np.zeros_like(votes), where=total > 0)


def fuse(probs: np.ndarray, votes: np.ndarray, weight: float = VOTE_WEIGHT) -> np.ndarray:
    """``(1 - weight) * probs + weight * votes`` per row; a row without votes (all 0) keeps
    the classifier's probabilities alone."""
    probs, votes = np.asarray(probs, dtype=np.float64), np.asarray(votes, dtype=np.float64)
    has_vote = votes.sum(1, keepdims=True) > 0
    return np.where(has_vote, (1.0 - weight) * probs + weight * votes, probs)


def fused_prediction(probs: np.ndarray, prob_classes: Sequence[str], q_emb: np.ndarray,
                     g_emb: np.ndarray, g_labels: Sequence[str], *, k: int = K,
                     weight: float = VOTE_WEIGHT) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(classes, fused scores, votes) of queries from the classifier's probabilities over
    ``prob_classes`` and the labelled gallery. ``classes`` is ``prob_classes`` followed by the
    gallery's labels the classifier does not know (sorted); the classifier gives those 0."""
    probs = np.atleast_2d(np.asarray(probs, dtype=np.float64))
    known = set(prob_classes)
    classes = list(prob_classes) + sorted({c for c in g_labels if c not in known})
    padded = np.zeros((len(probs), len(classes)))
    padded[:, :len(prob_classes)] = probs
    votes = neighbour_votes(q_emb, g_emb, g_labels, classes, k)
    return classes, fuse(padded, votes, weight), votes


def ranked(scores: np.ndarray, classes: Sequence[str], n: int = 3) -> list[list[tuple[str, float]]]:
    """Per row, the n best (class, score) with a positive score, best first (ties: the
    earlier class)."""
    order = np.argsort(-np.asarray(scores), axis=1, kind="stable")[:, :n]
    return [[(classes[j], round(float(row[j]), 4)) for j in idx if row[j] > 0]
            for row, idx in zip(scores, order, strict=True)]


def topk_accuracy(scores: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of rows whose true column is among the k best (stable order) with a positive
    score: a class a vote never mentions is no guess, whatever its rank among the zeros."""
    scores = np.asarray(scores)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(scores))
    hit = (order == truth[:, None]).any(1) & (scores[rows, truth] > 0)
    return float(hit.mean()) if len(scores) else 0.0
