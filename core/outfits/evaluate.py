"""Standard outfit metrics on a held-out split: compatibility AUC and fill-in-the-blank accuracy,
for the model and for simple baselines (random, visual similarity, colour similarity, the MLP).

The AUC is over complete outfits (``auc``: compatible vs broken) and, with incomplete outfits
scored 0 as the service flags them, over all (``auc_all``); ``by_fault`` is the AUC of the
compatible outfits against each kind of broken one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from core.outfits.data import Outfit, Question, complete, fitb_questions, padded
from core.outfits.features import CatalogFeatures

Scorer = Callable[[CatalogFeatures, Sequence[Outfit]], np.ndarray]


def auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve (0.5 when only one class is present)."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return 0.5
    return float(roc_auc_score(labels, np.asarray(scores, dtype=np.float64)))


@torch.inference_mode()
def model_scores(model, feats: CatalogFeatures, outfits: Sequence[Outfit],
                 batch_size: int = 512) -> np.ndarray:
    """Compatibility probabilities of outfits."""
    out = []
    for start in range(0, len(outfits), batch_size):
        v, h, present = padded(outfits[start:start + batch_size], feats)
        logit, _ = model(torch.from_numpy(v), torch.from_numpy(h), torch.from_numpy(present))
        out.append(torch.sigmoid(logit).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def _mean_pairs(outfits: Sequence[Outfit], sim: np.ndarray) -> np.ndarray:
    return np.array([sim[np.ix_(o.rows, o.rows)][np.triu_indices(len(o.rows), 1)].mean()
                     for o in outfits])


def similarity_scores(feats: CatalogFeatures, outfits: Sequence[Outfit]) -> np.ndarray:
    """Baseline: the mean cosine similarity of the pieces (items that look alike go together)."""
    rows = sorted({r for o in outfits for r in o.rows})
    pos = {r: i for i, r in enumerate(rows)}
    m = feats.vectors[rows]
    return _mean_pairs([Outfit([pos[r] for r in o.rows], o.label, o.split) for o in outfits],
                       m @ m.T)


def colour_scores(feats: CatalogFeatures, outfits: Sequence[Outfit]) -> np.ndarray:
    """Baseline: the mean histogram intersection of the pieces (matching colours)."""
    out = []
    for o in outfits:
        h = feats.hists[o.rows]
        inter = np.minimum(h[:, None], h[None]).sum(axis=2) / 3
        out.append(inter[np.triu_indices(len(o.rows), 1)].mean())
    return np.array(out)


def fitb_accuracy(scorer: Scorer, feats: CatalogFeatures, questions: Sequence[Question]) -> float:
    """Share of questions whose answer (candidate 0) completes the best-scored outfit."""
    if not questions:
        return 0.0
    filled = [Outfit([*q.rows, c], 0, "") for q in questions for c in q.candidates]
    scores = np.asarray(scorer(feats, filled)).reshape(len(questions), -1)
    return float((scores.argmax(axis=1) == 0).mean())


def evaluate_outfits(model, baseline, feats: CatalogFeatures, outfits: Sequence[Outfit], *,
                     split: str = "test", seed: int = 0) -> dict:
    """The eval report of the model and the baselines on one split ("all": every outfit, for
    a catalog the model never saw)."""
    rng = np.random.default_rng(seed)
    held = [o for o in outfits if split == "all" or o.split == split]
    families = feats.families
    done = [o for o in held if complete(o, families)]
    questions = fitb_questions(held, feats, np.random.default_rng(seed))
    scorers: dict[str, Scorer] = {
        "random": lambda _f, os: rng.random(len(os)),
        "similarity": similarity_scores,
        "colour": colour_scores,
    }
    if baseline is not None:
        scorers["mlp"] = lambda f, os: model_scores(baseline, f, os)

    def row(scorer: Scorer) -> dict:
        scores = scorer(feats, done)
        whole = np.array([s if complete(o, families) else 0.0
                          for o, s in zip(held, scorer(feats, held), strict=True)])
        return {"auc": round(auc([o.label for o in done], scores), 4),
                "auc_all": round(auc([o.label for o in held], whole), 4),
                "fitb": round(fitb_accuracy(scorer, feats, questions), 4)}

    report = {"model": f"compat:{model.cfg.kind}", "image_model": model.cfg.image_model,
              "split": split, **row(lambda f, os: model_scores(model, f, os)),
              "outfits": len(held), "complete_outfits": len(done), "questions": len(questions),
              "by_fault": _by_fault(model, feats, done),
              "baselines": {name: row(s) for name, s in scorers.items()}}
    return report


def _by_fault(model, feats: CatalogFeatures, outfits: Sequence[Outfit]) -> dict:
    good = [o for o in outfits if o.label]
    kinds = sorted({o.fault for o in outfits if not o.label and o.fault})
    out = {}
    for kind in kinds:
        bad = [o for o in outfits if not o.label and o.fault == kind]
        scores = model_scores(model, feats, good + bad)
        out[kind] = {"auc": round(auc([1] * len(good) + [0] * len(bad), scores), 4),
                     "n": len(bad)}
    return out
