"""Training/evaluation data as small uint8 tensors cached in RAM (decode each image once).

Two sources: folders of real photos (``<root>/<split>/<class>/*.jpg``) and the demo catalog
(``items.jsonl`` with re-renderable garments, several variants per item).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.images import IMAGE_EXTS
from core.models.labels import (
    ATTR_DIM,
    CATEGORY_NAMES,
    COLOR_NAMES,
    DETAIL_NAMES,
    attr_onehot,
    detail_row,
    group_matrix,
    real_group,
)
from core.models.preprocess import load_rgb, to_uint8_square

log = logging.getLogger(__name__)
# identities of real photos start here (renders' are their item indices): the training loop
# tells photos from renders by it
PHOTO_IDENT_OFFSET = 1_000_000


@dataclass
class TensorSet:
    """Images (N x 3 x S x S uint8) with their labels; -1 marks an unknown label."""

    images: torch.Tensor
    groups: torch.Tensor  # N x n_categories, 1 where a category is allowed (partial label)
    color: torch.Tensor  # N, colour index or -1
    ident: torch.Tensor  # N, identity for triplets (item for renders, class for photos)
    attrs: torch.Tensor  # N x ATTR_DIM one-hot (zeros when unknown)
    labels: list[str]  # N, the class name (photos) or category (renders)
    # N x len(DETAIL_NAMES) indices of the renders' discrete shape draws (-1: none or unknown);
    # None when no picture has any (photos)
    details: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.images)

    def detail_rows(self) -> torch.Tensor:
        """``details``, or all -1 when the set carries none."""
        if self.details is not None:
            return self.details
        return torch.full((len(self), len(DETAIL_NAMES)), -1, dtype=torch.long)

    def subset(self, idx: Sequence[int] | torch.Tensor) -> TensorSet:
        idx = torch.as_tensor(idx, dtype=torch.long)
        return TensorSet(self.images[idx], self.groups[idx], self.color[idx], self.ident[idx],
                         self.attrs[idx], [self.labels[i] for i in idx.tolist()],
                         None if self.details is None else self.details[idx])

    @staticmethod
    def concat(parts: list[TensorSet]) -> TensorSet:
        details = (torch.cat([p.detail_rows() for p in parts])
                   if any(p.details is not None for p in parts) else None)
        return TensorSet(*(torch.cat([getattr(p, f) for p in parts]) for f in
                           ("images", "groups", "color", "ident", "attrs")),
                         [lab for p in parts for lab in p.labels], details)


LOAD_REPORT_EVERY = 64  # images between two progress reports of load_many


def load_many(sources: Iterable, size: int, pad: str = "edge", workers: int = 2,
              progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Decode, pad and resize many images in a thread pool into one uint8 tensor;
    ``progress(done, total)`` after every ``LOAD_REPORT_EVERY`` images and the last (it may
    raise to stop the reading)."""
    def one(src) -> np.ndarray:
        img = src if hasattr(src, "convert") else load_rgb(src)
        return to_uint8_square(img, size, pad)

    sources = list(sources)
    arrays = []
    pool = ThreadPoolExecutor(max(1, workers))
    try:
        for i, array in enumerate(pool.map(one, sources), 1):
            arrays.append(array)
            if progress and (i % LOAD_REPORT_EVERY == 0 or i == len(sources)):
                progress(i, len(sources))
    finally:  # a stop raised by progress leaves the photos not yet read unread
        pool.shutdown(wait=True, cancel_futures=True)
    if not arrays:
        return torch.zeros(0, 3, size, size, dtype=torch.uint8)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def class_folder_samples(root: Path) -> list[tuple[Path, str]]:
    """(path, class) pairs of an ImageFolder layout, sorted for determinism."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder of class folders")
    out = [(p, d.name) for d in sorted(root.iterdir()) if d.is_dir()
           for p in sorted(d.iterdir()) if p.suffix.lower() in IMAGE_EXTS]
    if not out:
        raise FileNotFoundError(f"{root}: no images in class sub-folders")
    return out


def photo_set(root: Path, size: int, *, ident_offset: int = 0, workers: int = 2,
              labels: dict[str, dict] | None = None) -> TensorSet:
    """Real photos in class folders; classes must map onto the catalog taxonomy. ``labels``
    ("class/file" -> {"color", "pattern", ...}, as in a colour labels file) give labelled
    photos their colour and pattern."""
    samples = class_folder_samples(root)
    classes = sorted({c for _, c in samples})
    unknown = [c for c in classes if real_group(c) is None]
    if unknown:
        raise KeyError(f"{root}: class folder(s) {unknown} do not map to catalog categories")
    gm = group_matrix(classes)
    cls_idx = torch.tensor([classes.index(c) for _, c in samples])
    log.info("decoding %d photos from %s", len(samples), root)
    images = load_many([p for p, _ in samples], size, workers=workers)
    n = len(samples)
    colour, attrs = torch.full((n,), -1), torch.zeros(n, ATTR_DIM)
    for i, (path, cls) in enumerate(samples):
        lab = (labels or {}).get(f"{cls}/{path.name}") or {}
        if lab.get("skip"):
            continue
        if lab.get("color") in COLOR_NAMES:
            colour[i] = COLOR_NAMES.index(lab["color"])
        attrs[i] = torch.tensor(attr_onehot({"pattern": lab.get("pattern")}))
    return TensorSet(images, gm[cls_idx], colour, cls_idx + ident_offset, attrs,
                     [c for _, c in samples])


def read_photo_labels(paths) -> dict[str, dict]:
    """"class/file" -> label of one or more colour labels files (later files win)."""
    out: dict[str, dict] = {}
    for path in paths or ():
        try:
            out.update(json.loads(Path(path).read_text())["labels"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a colour labels file ({exc})") from None
    return out


def read_items_jsonl(demo_dir: Path) -> list[dict]:
    """The demo catalog's item records (items.jsonl)."""
    path = Path(demo_dir) / "items.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: demo catalog not found (run `python -m core demo build`)")
    with path.open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def render_variant(record: dict, variant: int, size: int):
    """A re-render of a demo item (variant 0 is the stored picture)."""
    from core.demo.render import render_item

    image, _mask = render_item(record, variant=variant, size=size)
    return image


def demo_set(demo_dir: Path, size: int, *, split: str | Sequence[str] = "train",
             variants: Sequence[int] = (0,), ident_offset: int = 0,
             render: Callable[[dict, int, int], object] = render_variant,
             workers: int = 2) -> TensorSet:
    """Demo items of a split, each as len(variants) pictures (0 = stored image file)."""
    splits = {split} if isinstance(split, str) else set(split)
    records = [r for r in read_items_jsonl(demo_dir) if r.get("split") in splits]
    jobs = [(r, v, size) for r in records for v in variants if v != 0]
    rendered = iter(_render_many(jobs, render, workers))
    sources = [Path(demo_dir) / r["image"] if v == 0 else next(rendered)
               for r in records for v in variants]
    log.info("decoding %d demo pictures (%d items x %d variants)", len(sources), len(records),
             len(variants))
    images = load_many(sources, size, workers=workers)
    rep = len(variants)
    eye = torch.eye(len(CATEGORY_NAMES))
    cats = [CATEGORY_NAMES.index(r["category"]) for r in records]
    colors = [COLOR_NAMES.index(c) if (c := r.get("attrs", {}).get("color")) in COLOR_NAMES
              else -1 for r in records]
    attrs = torch.tensor([attr_onehot(r.get("attrs", {})) for r in records])
    details = torch.tensor([detail_row(r) for r in records], dtype=torch.long).reshape(
        len(records), len(DETAIL_NAMES))
    idx = torch.arange(len(records)).repeat_interleave(rep)
    return TensorSet(images, eye[torch.tensor(cats, dtype=torch.long)][idx],
                     torch.tensor(colors, dtype=torch.long)[idx], idx + ident_offset,
                     attrs[idx], [records[i]["category"] for i in idx.tolist()], details[idx])


def _render_job(job: tuple) -> object:
    return render_variant(*job)


def _render_many(jobs: list[tuple], render: Callable, workers: int) -> list:
    """Re-render pictures, in worker processes when the default renderer is used."""
    if render is not render_variant or workers < 2 or len(jobs) < 50:
        return [render(*job) for job in jobs]
    import multiprocessing as mp

    with mp.get_context("fork").Pool(workers) as pool:
        return pool.map(_render_job, jobs, chunksize=16)


def variant_pairs(demo: TensorSet) -> tuple[np.ndarray, np.ndarray]:
    """(query rows, gallery rows) of a demo set loaded with variants (0, 1): its pictures
    alternate, variant 1 is the query and variant 0 (the catalog shot) the gallery."""
    return np.arange(1, len(demo), 2), np.arange(0, len(demo), 2)


def holdout_indices(labels, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(kept, held-out) sorted row indices: ``fraction`` of each label's rows (at least one)
    held out at random."""
    rng = np.random.default_rng(seed)
    train_idx, hold_idx = [], []
    arr = np.array(labels)
    for lab in sorted(set(arr.tolist())):
        idx = np.flatnonzero(arr == lab)
        rng.shuffle(idx)
        k = max(1, int(round(len(idx) * fraction)))
        hold_idx.extend(idx[:k].tolist())
        train_idx.extend(idx[k:].tolist())
    return sorted(train_idx), sorted(hold_idx)


def split_holdout(ts: TensorSet, fraction: float, seed: int) -> tuple[TensorSet, TensorSet]:
    """Random (train, held-out) split by identity-free sampling, stratified by label."""
    train_idx, hold_idx = holdout_indices(ts.labels, fraction, seed)
    return ts.subset(train_idx), ts.subset(hold_idx)
