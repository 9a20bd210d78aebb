"""Fine-tuning data from the catalog: each item's photo with its category, colour and
attributes where known; a fixed held-out part for validation and comparison."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from core.modelhub.params import DataError
from core.models.data import TensorSet, class_folder_samples, load_many
from core.models.labels import ATTR_DIM, CATEGORY_NAMES, COLOR_NAMES, attr_onehot, real_group

log = logging.getLogger(__name__)
MIN_HOLDOUT = 8  # held-out labelled items: fewer gives no meaningful P@10 / R@1
MIN_TRAIN = 16
HOLDOUT_SHARE = 0.1


@dataclass
class CatalogRow:
    sku: str  # the catalog sku, or "<class>/<file>" for a photo in class folders
    path: Path
    category: str | None  # a taxonomy category, else None (unlabelled)
    color: str | None
    attrs: dict
    # categories a class folder stands for (a partial label: "pants" covers trousers and
    # jeans) and the class name used to score same-class retrieval; None for catalog items
    group: tuple[str, ...] | None = None
    label: str | None = None

    @property
    def labelled(self) -> bool:
        return bool(self.category or self.group)

    @property
    def class_name(self) -> str:
        return self.label or self.category or ""


def catalog_rows(repo, data_dir: Path) -> list[CatalogRow]:
    """Every item whose image file is present, with the labels the taxonomy knows."""
    rows = []
    for item in repo.iter_items():
        path = Path(item.image_path)
        path = path if path.is_absolute() else Path(data_dir) / path
        if not path.is_file():
            continue
        colour = (item.attrs or {}).get("color")
        rows.append(CatalogRow(item.sku, path,
                               item.category if item.category in CATEGORY_NAMES else None,
                               colour if colour in COLOR_NAMES else None, dict(item.attrs or {})))
    return rows


def folder_rows(root: Path) -> list[CatalogRow]:
    """The photos of a folder of class folders (``root/<class>/*.jpg``, or with train / val /
    test folders above the classes): a class that maps onto the catalog's categories labels
    its photos (several categories, e.g. "pants", as a partial label); photos of other classes
    train as unlabelled (matched only to augmented views of themselves)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (expected a folder of class folders)")
    splits = [d for d in sorted(root.iterdir()) if d.is_dir()
              and d.name.lower() in ("train", "val", "valid", "validation", "test")]
    rows = []
    for parent in splits or [root]:
        try:
            samples = class_folder_samples(parent)
        except FileNotFoundError:
            continue
        for path, cls in samples:
            group = real_group(cls)
            rows.append(CatalogRow(str(path.relative_to(root)), path,
                                   group[0] if group and len(group) == 1 else None, None, {},
                                   group=group, label=cls.lower() if group else None))
    if not rows:
        raise DataError(f"{root}: no images in class sub-folders (expected "
                        f"{root}/<class>/*.jpg)")
    return rows


def check_folder(folder: str | Path) -> str:
    """The absolute path of a class-folder training set, after checking that it holds enough
    photos to train and hold some out (DataError saying what is missing otherwise)."""
    root = Path(folder).expanduser().resolve()
    split_rows(folder_rows(root))
    return str(root)


def split_rows(rows: list[CatalogRow], share: float = HOLDOUT_SHARE
               ) -> tuple[list[CatalogRow], list[CatalogRow]]:
    """(train, held-out): held-out = labelled items ranked by a hash of their sku (stable as
    the catalog grows), ``share`` of them but at least MIN_HOLDOUT."""
    if not rows:
        raise DataError("no catalog item has an image file under DATA_DIR: ingest photos "
                        "first (Home page or `python -m core ingest PATH`)")
    labelled = [r for r in rows if r.labelled]
    need = MIN_HOLDOUT + MIN_TRAIN
    n_hold = max(MIN_HOLDOUT, round(share * len(labelled)))
    if len(labelled) < MIN_HOLDOUT or len(rows) - n_hold < MIN_TRAIN:
        raise DataError(f"too few items to hold some out: fine-tuning needs at least {need} "
                        f"items with images, {MIN_HOLDOUT} of them with a category (held out "
                        f"for validation) and {MIN_TRAIN} to train on; the catalog has "
                        f"{len(rows)} with images, {len(labelled)} with a category")
    ranked = sorted(labelled, key=lambda r: hashlib.sha256(r.sku.encode()).hexdigest())
    held = {r.sku for r in ranked[:n_hold]}
    return [r for r in rows if r.sku not in held], [r for r in rows if r.sku in held]


def tensor_set(rows: list[CatalogRow], size: int, *, copies: int = 1, workers: int = 2,
               ident_offset: int = 0, progress: Callable[[int, int], None] | None = None
               ) -> TensorSet:
    """The rows' photos (uint8, ``size`` px) with labels, each repeated ``copies`` times in a
    row with one identity per item: copies of one photo are positives for the item loss
    (augmented differently each step), which is all an unlabelled item contributes."""
    images = load_many([r.path for r in rows], size, workers=workers, progress=progress)
    n = len(rows)
    groups = torch.ones(n, len(CATEGORY_NAMES))
    colour = torch.full((n,), -1, dtype=torch.long)
    attrs = torch.zeros(n, ATTR_DIM)
    for i, r in enumerate(rows):
        if r.labelled:  # partial labels: an unlabelled item allows every category
            groups[i] = 0
            for cat in r.group or (r.category,):
                groups[i, CATEGORY_NAMES.index(cat)] = 1
        if r.color:
            colour[i] = COLOR_NAMES.index(r.color)
        attrs[i] = torch.tensor(attr_onehot(r.attrs))
    idx = torch.arange(n).repeat_interleave(copies)
    return TensorSet(images[idx], groups[idx], colour[idx], idx + ident_offset, attrs[idx],
                     [r.class_name for r in rows for _ in range(copies)])


def augmented_pairs(ts: TensorSet, seed: int = 0) -> TensorSet:
    """A validation set in the demo layout (rows alternate: the photo, then an augmented view
    of it), so that exact-item R@1 queries the view against the photos."""
    from core.models.augment import augment

    gen = torch.Generator().manual_seed(seed)
    size = ts.images.shape[-1]
    views = (augment(ts.images, size, gen, strength=0.6) * 255).round().to(torch.uint8)
    both = TensorSet.concat([ts, ts])
    order = torch.stack([torch.arange(len(ts)), torch.arange(len(ts)) + len(ts)], 1).flatten()
    both.images = torch.cat([ts.images, views])
    return both.subset(order)
