"""What the compatibility model reads of an item: its image vector, a colour histogram and the
catalog's facts (season and gender, one-hot; zeros when unknown, as for a photo).

The histogram (8 bins per RGB channel, 24 numbers) is taken over garment pixels only:
the item's colour-coded mask when it has one, else the plain-background removal used for
product photos, else the whole picture. Catalog histograms are cached on disk by content hash.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from core.images import load_image
from core.models.masking import foreground_pixels, garment_pixels
from core.progress import Progress
from core.storage.records import Item, data_file
from core.taxonomy import GENDERS, SEASONS, family_of

log = logging.getLogger(__name__)
BINS = 8
HIST_DIM = 3 * BINS
HIST_SIDE = 96  # histograms are read from a thumbnail: colours, not detail
META_DIM = len(SEASONS) + len(GENDERS)


def colour_histogram(img: Image.Image, mask: Image.Image | None = None) -> np.ndarray:
    """24 numbers: per RGB channel, the share of garment pixels in each of 8 bins."""
    img = img.convert("RGB")
    img.thumbnail((HIST_SIDE, HIST_SIDE))
    arr = np.asarray(img)
    keep = None
    if mask is not None:
        keep = garment_pixels(mask.convert("RGB").resize(img.size, Image.NEAREST))
    if keep is None or not keep.any():
        keep = foreground_pixels(img)
    pixels = arr.reshape(-1, 3) if keep is None or not keep.any() else arr[keep]
    out = np.concatenate([np.bincount(pixels[:, c] // (256 // BINS), minlength=BINS)
                          for c in range(3)]).astype(np.float32)
    return out / max(len(pixels), 1)


def item_meta(season: str | None, gender: str | None) -> np.ndarray:
    """The catalog facts a picture may not show: season and gender one-hot (7 numbers; an
    unknown value leaves its part zero)."""
    out = np.zeros(META_DIM, np.float32)
    if season in SEASONS:
        out[SEASONS.index(season)] = 1.0
    if gender in GENDERS:
        out[len(SEASONS) + GENDERS.index(gender)] = 1.0
    return out


def side_features(hist: np.ndarray, meta: np.ndarray | None = None) -> np.ndarray:
    """What the network reads of an item besides its vector: histogram then facts (zeros for
    a photo, whose season and gender nobody stated)."""
    meta = np.zeros(hist.shape[:-1] + (META_DIM,), np.float32) if meta is None else meta
    return np.concatenate([hist, meta], axis=-1).astype(np.float32)


@dataclass
class CatalogFeatures:
    """Rows of catalog items with vectors: sku, vector, histogram and facts, aligned."""

    skus: list[str]
    vectors: np.ndarray  # n x d, L2-normalised
    hists: np.ndarray  # n x 24
    items: list[Item]
    row: dict[str, int] = field(init=False)
    families: list[str | None] = field(init=False)  # per row, the garment family
    side: np.ndarray = field(init=False)  # n x (24 + 7): histogram, then season and gender

    def __post_init__(self) -> None:
        self.row = {s: i for i, s in enumerate(self.skus)}
        self.families = [family_of(it.category) for it in self.items]
        meta = np.stack([item_meta(it.attrs.get("season"), it.gender) for it in self.items]) \
            if self.items else np.zeros((0, META_DIM), np.float32)
        self.side = side_features(self.hists, meta)
        self._family_rows: dict[tuple[str, str | None], np.ndarray] = {}

    def without_facts(self) -> CatalogFeatures:
        """The same rows with every season and gender unknown, as a photo's are."""
        out = copy.copy(self)
        out.side = side_features(self.hists)
        return out

    def rows_of_family(self, family: str, split: str | None = None) -> np.ndarray:
        """Rows of a garment family (of one split), computed once per (family, split)."""
        key = (family, split)
        if key not in self._family_rows:
            self._family_rows[key] = np.array(
                [i for i, (f, it) in enumerate(zip(self.families, self.items, strict=True))
                 if f == family and (split is None or it.split == split)], dtype=np.int64)
        return self._family_rows[key]


def item_histogram(item: Item, data_dir: Path) -> np.ndarray:
    """The histogram of a catalog item's picture (zeros when the file is unreadable)."""
    try:
        img = load_image(data_file(data_dir, item.image_path))
        mask_path = data_file(data_dir, item.mask_path) if item.mask_path else None
        mask = Image.open(mask_path) if mask_path is not None and mask_path.is_file() else None
        return colour_histogram(img, mask)
    except (OSError, ValueError) as exc:
        log.warning("no colour histogram for %s: %s", item.sku, exc)
        return np.zeros(HIST_DIM, np.float32)


class HistogramCache:
    """Histograms by image content hash in one .npz under the cache folder."""

    def __init__(self, cache_dir: Path | None):
        self.path = Path(cache_dir) / "outfits" / "histograms.npz" if cache_dir else None
        self.known: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.is_file():
            try:
                with np.load(self.path, allow_pickle=False) as z:
                    self.known = dict(zip(z["hashes"].tolist(), z["hists"], strict=True))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable histogram cache %s: %s", self.path, exc)

    def save(self) -> None:
        if self.path is None or not self.known:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name("histograms.tmp.npz")
        np.savez(tmp, hashes=np.array(list(self.known)),
                 hists=np.stack(list(self.known.values())).astype(np.float32))
        tmp.replace(self.path)


def catalog_features(repo, model_id: str, data_dir: Path, cache_dir: Path | None = None, *,
                     progress: Progress | None = None) -> CatalogFeatures:
    """Every catalog item that has a vector of ``model_id``, with its histogram."""
    from core.index import NoVectors, embed_command
    from core.index.vectorcache import VectorCache, cached_vectors

    # the disk cache, else the packed snapshot in MongoDB, else one document per vector
    skus, matrix, _ = cached_vectors(repo, model_id,
                                     VectorCache(cache_dir) if cache_dir is not None else None)
    if len(skus) == 0:
        raise NoVectors(f"no embeddings for model {model_id!r} yet: run "
                        f"`{embed_command(model_id)}`")
    by_sku = {it.sku: it for it in repo.get_items(list(skus))}
    keep = [i for i, s in enumerate(skus) if s in by_sku]
    items = [by_sku[skus[i]] for i in keep]
    cache = HistogramCache(cache_dir)
    todo = [it for it in items if it.hash not in cache.known]
    for n, it in enumerate(todo, 1):
        cache.known[it.hash] = item_histogram(it, data_dir)
        if progress and (n % 50 == 0 or n == len(todo)):
            progress(n, len(todo))
    if todo:
        cache.save()
    m = np.asarray(matrix[keep], dtype=np.float32)
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    hists = np.stack([cache.known[it.hash] for it in items]) if items else \
        np.zeros((0, HIST_DIM), np.float32)
    return CatalogFeatures([it.sku for it in items], m, hists, items)
