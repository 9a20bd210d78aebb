"""Standard outfit metrics on a held-out split: compatibility AUC and fill-in-the-blank accuracy,
for the model and for simple baselines (random, visual similarity, colour similarity, the MLP).

The AUC is over complete outfits (``auc``: compatible vs broken) and, with incomplete outfits
scored 0 as the service flags them, over all (``auc_all``); ``by_fault`` is the AUC of the
compatible outfits against each kind of broken one. A model that reads the catalog's facts is
also scored with them hidden (``without_facts``: pieces as unknown as photos).
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


def similarity_scores(feats: CatalogFeatures, outfits: Sequence[Outfit]) -> np.ndarray:
    """Baseline: the mean cosine similarity of the pieces (items that look alike go together)."""
    out = []
    for o in outfits:
        v = feats.vectors[o.rows]
        out.append((v @ v.T)[np.triu_indices(len(o.rows), 1)].mean())
    return np.array(out)


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
    whole = np.array([complete(o, families) for o in held], dtype=bool)
    labels = np.array([o.label for o in held])
    questions = fitb_questions(held, feats, np.random.default_rng(seed))
    scorers: dict[str, Scorer] = {
        "random": lambda _f, os: rng.random(len(os)),
        "similarity": similarity_scores,
        "colour": colour_scores,
    }
    if baseline is not None:
        scorers["mlp"] = lambda f, os: model_scores(baseline, f, os)

    def row(scorer: Scorer, scores: np.ndarray | None = None) -> dict:
        scores = np.asarray(scorer(feats, held) if scores is None else scores)
        return {"auc": round(auc(labels[whole], scores[whole]), 4),
                "auc_all": round(auc(labels, np.where(whole, scores, 0.0)), 4),
                "fitb": round(fitb_accuracy(scorer, feats, questions), 4)}

    def ours(f, os):
        return model_scores(model, f, os)

    complete_held = [o for o, w in zip(held, whole, strict=True) if w]
    scores = ours(feats, held)
    out = {"model": f"compat:{model.cfg.kind}", "image_model": model.cfg.image_model,
           "split": split, **row(ours, scores), "outfits": len(held),
           "complete_outfits": int(whole.sum()), "questions": len(questions),
           "by_fault": _by_fault(complete_held, scores[whole]),
           "baselines": {name: row(s) for name, s in scorers.items()}}
    if model.cfg.meta_dim:
        blind = feats.without_facts()

        def unseen(_f, os):
            return model_scores(model, blind, os)

        scores = unseen(blind, held)
        out["without_facts"] = {**row(unseen, scores),
                                "by_fault": _by_fault(complete_held, scores[whole])}
    return out


def _by_fault(outfits: Sequence[Outfit], scores: np.ndarray) -> dict:
    """AUC of the compatible outfits against each kind of broken one."""
    good = np.array([o.label == 1 for o in outfits])
    faults = np.array([o.fault for o in outfits])
    out = {}
    for kind in sorted({o.fault for o in outfits if not o.label and o.fault}):
        bad = ~good & (faults == kind)
        keep = good | bad
        out[kind] = {"auc": round(auc(good[keep].astype(int), scores[keep]), 4),
                     "n": int(bad.sum())}
    return out
