"""Does the outfit model work on real photographs? Structure faults on a photo data set.

A folder of class folders (clothing-small style: t-shirt, pants, dress, shoes, …, mapped onto
the catalog taxonomy by :func:`core.models.labels.real_group`) has no colour or style labels,
but its classes say which garment family each photo shows. So looks are put together from its
query split (validation/ or test/): well-formed ones (a top, a bottom and shoes; a one-piece and
shoes) against looks with a structure fault (two bottoms, two tops, a one-piece worn with
separates, two pairs of shoes), and the model's scores are compared by AUC, per fault and
overall, beside visual similarity and random scores. Colours are whatever the photos happen to
be, so some well-formed looks clash: the AUC is a lower bound of what the model tells apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.images import load_image
from core.models.labels import real_group
from core.outfits.evaluate import auc
from core.outfits.features import colour_histogram, side_features
from core.progress import Progress
from core.taxonomy import family_of

# (fault, families of the look): each needs photos of every family it names.
GOOD = (("", ("top", "bottom", "shoes")), ("", ("full", "shoes")))
BAD = (("two bottoms", ("top", "bottom", "bottom", "shoes")),
       ("two tops", ("top", "top", "bottom", "shoes")),
       ("one-piece with separates", ("full", "bottom", "shoes")),
       ("two pairs of shoes", ("top", "bottom", "shoes", "shoes")))


class NoPhotoOutfits(ValueError):
    """The folder lacks the garment families needed to put looks together."""


def family_photos(root: Path) -> dict[str, list[tuple[Path, str]]]:
    """(photo, category) by family for the query split's classes that map onto the taxonomy."""
    from core.models.data import class_folder_samples
    from core.models.evaluate import query_root

    out: dict[str, list[tuple[Path, str]]] = {}
    for path, cls in class_folder_samples(query_root(root)):
        group = real_group(cls)
        if group and family_of(group[0]):
            out.setdefault(family_of(group[0]), []).append((path, group[0]))
    return out


def _looks(photos: dict[str, list], n: int, rng: np.random.Generator
           ) -> list[tuple[str, list[tuple[Path, str]]]]:
    """n well-formed and n faulty looks (faults in turn), each photo used once per look."""
    def possible(kinds):
        return [(f, fams) for f, fams in kinds
                if all(len(photos.get(x, ())) >= fams.count(x) for x in set(fams))]

    good, bad = possible(GOOD), possible(BAD)
    if not good or not bad:
        raise NoPhotoOutfits("the photos need classes of tops, bottoms and shoes (or one-pieces "
                             "and shoes) to put looks together, e.g. t-shirt, pants, shoes")
    looks = []
    for i in range(2 * n):
        kinds = good if i % 2 == 0 else bad
        fault, fams = kinds[(i // 2) % len(kinds)]
        look, used = [], set()
        for fam in fams:
            options = [j for j in range(len(photos[fam])) if (fam, j) not in used]
            j = int(options[int(rng.integers(len(options)))])
            used.add((fam, j))
            look.append(photos[fam][j])
        looks.append((fault, look))
    return looks


def eval_photo_structure(stylist, root: Path, *, n: int = 300, seed: int = 0,
                         progress: Progress | None = None) -> dict:
    """AUC of well-formed vs faulty looks of real photos, for the model and baselines."""
    from core.outfits.service import Piece

    rng = np.random.default_rng(seed)
    looks = _looks(family_photos(root), n, rng)
    paths = sorted({p for _, look in looks for p in look}, key=lambda t: str(t[0]))
    pieces: dict[Path, Piece] = {}
    for start in range(0, len(paths), 32):
        chunk = paths[start:start + 32]
        images = [load_image(p) for p, _ in chunk]
        vecs = stylist.embedder.embed_images(images)
        for (p, cat), img, v in zip(chunk, images, vecs, strict=True):
            pieces[p] = Piece(v.astype(np.float32), side_features(colour_histogram(img)), cat,
                              None, p.name)
        if progress:
            progress(min(start + 32, len(paths)), len(paths))
    outfits = [[pieces[p] for p, _ in look] for _, look in looks]
    labels = [0 if fault else 1 for fault, _ in looks]
    scorers = {"model": lambda o: stylist.score(o).score,
               "similarity": lambda o: _mean_cosine(o),
               "random": lambda _o: float(rng.random())}
    scores = {name: np.array([f(o) for o in outfits]) for name, f in scorers.items()}
    return {"model": f"compat:{stylist.model.cfg.kind}", "data": str(root),
            "auc": round(auc(labels, scores["model"]), 4),
            "by_fault": _by_fault(looks, scores["model"]),
            "looks": len(looks), "photos": len(paths),
            "mean_score": {"well_formed": _mean(scores["model"], labels, 1),
                           "faulty": _mean(scores["model"], labels, 0)},
            "baselines": {name: {"auc": round(auc(labels, s), 4)}
                          for name, s in scores.items() if name != "model"}}


def _mean_cosine(pieces) -> float:
    m = np.stack([p.vector for p in pieces])
    m = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    return float((m @ m.T)[np.triu_indices(len(pieces), 1)].mean())


def _mean(scores: np.ndarray, labels: list[int], label: int) -> float:
    return round(float(scores[np.array(labels) == label].mean()), 4)


def _by_fault(looks, scores: np.ndarray) -> dict:
    good = [s for (fault, _), s in zip(looks, scores, strict=True) if not fault]
    out = {}
    for fault in sorted({f for f, _ in looks if f}):
        bad = [s for (f, _), s in zip(looks, scores, strict=True) if f == fault]
        out[fault] = {"auc": round(auc([1] * len(good) + [0] * len(bad), good + bad), 4),
                      "n": len(bad)}
    return out
