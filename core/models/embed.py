"""Embedding: a loaded backbone for query images, and the resumable catalog embedding job."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from core.models.masking import mask_image
from core.models.metrics import top_categories
from core.models.preprocess import PreprocessCfg, make_transform, normalise_batch, to_uint8_square
from core.models.registry import build_backbone, get_spec
from core.progress import Progress
from core.storage.records import data_file

log = logging.getLogger(__name__)
# Query modes: "similar" ranks by the model's own blend of category, colour and item identity;
# "item" (this exact item) re-weights the query towards identity, against the same vectors.
MATCH_MODES = ("similar", "item")


class MatchUnavailable(ValueError):
    """A query mode the model does not offer (or an unknown one); the message says why."""


def model_id_for(backbone: str, mask: bool = False) -> str:
    """The vector-store key of a backbone (+mask when garment masking is applied)."""
    return f"{backbone}+mask" if mask else backbone


def embedder_for(model_id: str, settings=None) -> Embedder:
    """The image model that makes ``model_id``'s vectors (the inverse of :func:`model_id_for`):
    for embedding query photos against a catalog embedded with it."""
    backbone, _, suffix = model_id.partition("+")
    return Embedder(backbone, settings, mask=suffix == "mask")


class LazyEmbedder:
    """The image model of a model id, loaded on first use (once, even from several threads):
    services that embed query photos only sometimes don't pay for loading it up front."""

    def __init__(self, model_id: str, settings=None, embedder: Embedder | None = None):
        self.model_id, self.settings = model_id, settings
        self._embedder = embedder
        self._lock = threading.Lock()

    def get(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = embedder_for(self.model_id, self.settings)
            return self._embedder


class Embedder:
    """One backbone loaded once; batch inference under ``torch.inference_mode``."""

    def __init__(self, backbone: str, settings=None, *, mask: bool = False,
                 weights: str | Path | None = "default", device: str | None = None,
                 model: torch.nn.Module | None = None, preprocess: PreprocessCfg | None = None,
                 **overrides):
        spec = get_spec(backbone)
        self.backbone, self.mask = backbone, mask
        self.model_id = model_id_for(backbone, mask)
        self.device = device or (settings.device if settings is not None else "cpu")
        self.source = f"{backbone}:custom model" if model is not None else ""
        if model is None:
            weights_dir = settings.weights_dir if settings is not None else None
            self.source = weights_source(backbone, weights, weights_dir)
            model = build_backbone(backbone, weights=weights, weights_dir=weights_dir, **overrides)
        if preprocess is None and hasattr(model, "image_size"):  # a checkpoint's own input side
            preprocess = replace(spec.preprocess, size=int(model.image_size))
        self.preprocess = preprocess or spec.preprocess
        self.model = model.to(self.device).eval()
        self.transform = make_transform(self.preprocess)

    @property
    def can_classify(self) -> bool:
        return hasattr(self.model, "heads") and getattr(self.model, "cat_head", None) is not None

    @property
    def reads_photo_colour(self) -> bool:
        """Whether the model's colour head learnt real photos' colours (labelled photos in its
        training data), so that it is the better reader of a photo's colour."""
        return bool(getattr(self.model, "reads_photo_colour", False))

    @property
    def can_match_item(self) -> bool:
        """Whether the model offers the "this exact item" query mode (``train tune`` chose
        its weights)."""
        return getattr(self.model, "item_weights", None) is not None

    def check_match(self, match: str) -> None:
        if match not in MATCH_MODES:
            raise MatchUnavailable(f"unknown match mode {match!r}: choose one of {MATCH_MODES}")
        if match == "item" and not self.can_match_item:
            raise MatchUnavailable(
                f"backbone {self.backbone!r} has no exact-item mode: it needs a studio encoder "
                "tuned with `python -m core train tune --demo …`")

    def score_scale(self, match: str = "similar") -> float:
        """What turns an index score of a ``match`` query into its similarity: 1 for
        "similar"; for "item", the weighted cosine sum(w_i cos_i) (1 for a perfect match)."""
        self.check_match(match)
        return 1.0 if match == "similar" else self.model.query_factors(self.model.item_weights)[1]

    @torch.inference_mode()
    def embed_tensor(self, x: torch.Tensor, *, match: str = "similar") -> np.ndarray:
        """L2-normalised float32 embeddings of a preprocessed batch."""
        return self.encode_tensor(x, match=match)[0]

    @torch.inference_mode()
    def encode_tensor(self, x: torch.Tensor, *, with_probs: bool = False,
                      match: str = "similar") -> tuple[np.ndarray, torch.Tensor | None]:
        """(normalised embeddings, category probabilities or None) of a preprocessed batch;
        a model that classifies gives both from one pass over its views. ``match="item"``
        gives query vectors of the exact-item mode (for searching, never for storing)."""
        self.check_match(match)
        x = x.to(self.device)
        classify = with_probs and self.can_classify
        if not classify and match == "similar":
            emb, probs = self.model(x), None
        else:  # a studio encoder: one pass over its views serves heads and query weights
            z = self.model.view_features(x)
            probs = self.model.category_probs(z).cpu() if classify else None
            emb = self.model.query_as(z, self.model.item_weights) if match == "item" else \
                self.model.embed(z)
        return torch.nn.functional.normalize(emb.float(), dim=1).cpu().numpy(), probs

    def prepare(self, images: Sequence, masks: Sequence | None = None, *,
                mask: bool | None = None) -> torch.Tensor:
        """PIL images -> one preprocessed batch; ``mask`` overrides this embedder's default."""
        enabled = self.mask if mask is None else mask
        masks = masks if masks is not None else [None] * len(images)
        prepped = [mask_image(img, m, enabled=enabled).image
                   for img, m in zip(images, masks, strict=True)]
        return torch.stack([self.transform(img) for img in prepped])

    def embed_images(self, images: Sequence, batch_size: int = 64, *,
                     mask: bool | None = None, match: str = "similar") -> np.ndarray:
        """Embeddings (n x d, normalised) of query images (PIL); masking per request."""
        out = [self.embed_tensor(self.prepare(images[i:i + batch_size], mask=mask), match=match)
               for i in range(0, len(images), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    @torch.inference_mode()
    def predict_categories(self, images: Sequence, k: int = 3, *,
                           mask: bool | None = None) -> list[list[tuple[str, float]]]:
        """Top-k catalog categories with probabilities for each image (studio encoder only)."""
        if not self.can_classify:
            raise ValueError(f"backbone {self.backbone!r} has no category classifier")
        x = self.prepare(images, mask=mask).to(self.device)
        return top_categories(self.category_probs(x).numpy(), k)

    @torch.inference_mode()
    def category_probs(self, x: torch.Tensor) -> torch.Tensor:
        """Category probabilities of a preprocessed batch (averaged over the model's views)."""
        return self.model.category_probs(self.model.view_features(x.to(self.device))).cpu()

    def embed_and_classify(self, images: Sequence, k: int = 3, *, mask: bool | None = None,
                           match: str = "similar"
                           ) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
        """Embeddings and top-k categories of query images from one forward pass."""
        if not self.can_classify:
            raise ValueError(f"backbone {self.backbone!r} has no category classifier")
        emb, probs = self.encode_tensor(self.prepare(images, mask=mask), with_probs=True,
                                        match=match)
        return emb, top_categories(probs.numpy(), k)

    @torch.inference_mode()
    def predict_attrs(self, images: Sequence, masks: Sequence | None = None
                      ) -> list[dict[str, Any]]:
        """Per image, the top value and probability of each attribute head (pattern, sleeve…)
        and of "category" when the model classifies, from one forward pass ({} without heads)."""
        if not images or (getattr(self.model, "attr_heads", None) is None
                          and not self.can_classify):
            return [{} for _ in images]
        z = self.model.view_features(self.prepare(images, masks).to(self.device))
        return self.readings(z)

    def readings(self, z: torch.Tensor) -> list[dict[str, Any]]:
        """Top value and probability of each attribute head, of "category" and of "color" (the
        colour head) for a studio encoder's projections ``z`` (one dict per row; empty without
        heads); with a colour head also "color_dist", its whole distribution {colour: p}."""
        from core.models.labels import ATTR_VOCAB, CATEGORY_NAMES

        out: list[dict[str, Any]] = [{} for _ in range(len(z))]
        probs = {k: v.softmax(1) for k, v in self.model.attr_logits(z).items() if k in ATTR_VOCAB}
        if self.can_classify:
            probs["category"] = self.model.category_probs(z)
            colour = self.model.heads(z)[1]
            if colour is not None:
                probs["color"] = colour.softmax(1)
        vocab = {**ATTR_VOCAB, "category": CATEGORY_NAMES}
        if "color" in probs:
            for row, dist in zip(out, probs["color"].cpu().tolist(), strict=True):
                row["color_dist"] = dict(zip(vocab["color"], dist, strict=True))
        for name, p in probs.items():
            conf, idx = p.cpu().max(1)
            for row, (c, i) in enumerate(zip(conf.tolist(), idx.tolist(), strict=True)):
                out[row][name] = (vocab[name][i], round(float(c), 4))
        return out

    @torch.inference_mode()
    def embed_and_read(self, image, *, k: int = 3, mask: bool | None = None,
                       match: str = "similar"
                       ) -> tuple[np.ndarray, list[tuple[str, float]] | None, dict]:
        """A query photo's vector, its top-k categories (None without a classifier) and its
        attribute readings ({} without heads), all from one forward pass."""
        self.check_match(match)
        x = self.prepare([image], mask=mask).to(self.device)
        if not hasattr(self.model, "view_features"):  # a plain backbone: the vector only
            return self.embed_tensor(x, match=match), None, {}
        z = self.model.view_features(x)
        emb = self.model.query_as(z, self.model.item_weights) if match == "item" else \
            self.model.embed(z)
        vec = torch.nn.functional.normalize(emb.float(), dim=1).cpu().numpy()
        preds = (top_categories(self.model.category_probs(z).cpu().numpy(), k)[0]
                 if self.can_classify else None)
        return vec, preds, self.readings(z)[0]

    def top_categories_of_set(self, images: Sequence, k: int = 3) -> list[tuple[str, int]]:
        """The k most frequent predicted categories in a set of photos, with counts."""
        from collections import Counter

        preds = [p[0][0] for i in range(0, len(images), 64)
                 for p in self.predict_categories(images[i:i + 64], k=1)]
        return Counter(preds).most_common(k)


@dataclass
class Job:
    sku: str
    image: Path
    mask: Path | None


def open_for_embedding(path: Path, size: int):
    """Fast decode of an already ingested image: JPEG DCT scaling to about ``size``."""
    from PIL import Image, ImageOps

    img = Image.open(path)
    if img.format == "JPEG":
        img.draft("RGB", (size, size))
    return ImageOps.exif_transpose(img).convert("RGB")


class JobDataset(Dataset):
    """Loads, masks, pads and resizes catalog images (uint8) in DataLoader workers."""

    def __init__(self, jobs: list[Job], preprocess: PreprocessCfg, mask: bool):
        self.jobs, self.mask, self.preprocess = jobs, mask, preprocess
        self.size = preprocess.size

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, i: int):
        from PIL import Image

        job = self.jobs[i]
        try:
            img = open_for_embedding(job.image, self.size)
            m = None
            if self.mask and job.mask is not None and job.mask.is_file():
                m = Image.open(job.mask)
            img = mask_image(img, m, enabled=self.mask).image
            arr = to_uint8_square(img, self.size, self.preprocess.pad)
            return torch.from_numpy(arr.copy()).permute(2, 0, 1), job.sku, True
        except Exception as exc:  # a bad file must not stop the job; it is logged and skipped
            log.warning("skipping %s: %s", job.image, exc)
            return torch.zeros(3, self.size, self.size, dtype=torch.uint8), job.sku, False


def run_job(embedder: Embedder, jobs: list[Job], sink: Callable[[list[str], np.ndarray], None],
            *, batch_size: int = 64, workers: int | None = None,
            progress: Progress | None = None) -> int:
    """Embed ``jobs`` batch by batch, handing each batch to ``sink``; returns images embedded."""
    if not jobs:
        return 0
    if workers is None:
        workers = 2 if len(jobs) >= 2 * batch_size else 0
    loader = DataLoader(JobDataset(jobs, embedder.preprocess, embedder.mask),
                        batch_size=batch_size, num_workers=workers,
                        prefetch_factor=4 if workers else None, persistent_workers=False)
    done = 0
    for x, skus, ok in loader:
        keep = ok.nonzero().flatten()
        if len(keep):
            vecs = embedder.embed_tensor(normalise_batch(x[keep].float().div_(255),
                                                         embedder.preprocess))
            sink([skus[i] for i in keep.tolist()], vecs)
        done += len(skus)
        if progress is not None:
            progress(done, len(jobs))
    return done


def catalog_jobs(repo, settings, model_id: str, limit: int | None = None) -> list[Job]:
    """Items lacking a vector for ``model_id``, with absolute image and mask paths."""
    skus = repo.skus_without_vectors(model_id)[:limit] if limit else \
        repo.skus_without_vectors(model_id)
    jobs: list[Job] = []
    for start in range(0, len(skus), 500):
        for item in repo.get_items(skus[start:start + 500]):
            mask = data_file(settings.data_dir, item.mask_path) if item.mask_path else None
            jobs.append(Job(item.sku, data_file(settings.data_dir, item.image_path), mask))
    return jobs


def weights_source(backbone: str, weights, weights_dir: Path | None) -> str:
    """What a backbone's vectors were made with: its weights file's sha256, or random init."""
    from core.models.registry import resolve_weights
    from core.models.studio import sha256_of

    if weights is None:
        return f"{backbone}:random init"
    path = Path(weights) if weights != "default" else (
        resolve_weights(get_spec(backbone), Path(weights_dir)) if weights_dir else None)
    if path is None or not path.is_file():
        return f"{backbone}:{path}"
    return f"{backbone}:sha256={sha256_of(path)}"


def drop_stale_vectors(repo, embedder: Embedder) -> int:
    """Delete a model's vectors made with other weights (a new encoder was shipped or trained),
    so the job re-embeds the catalog instead of mixing two embedding spaces; returns how many."""
    if not embedder.source:
        return 0
    stored = repo.vectors_source(embedder.model_id)
    if stored == embedder.source:
        return 0
    dropped = repo.delete_vectors(embedder.model_id)  # unknown provenance counts as stale
    if dropped:
        log.warning("%s: %d vectors were made with other weights (%s); re-embedding with %s",
                    embedder.model_id, dropped, stored or "unrecorded", embedder.source)
    return dropped


def embed_catalog(repo, settings, backbone: str, *, mask: bool = False, batch_size: int = 64,
                  progress: Progress | None = None, embedder: Embedder | None = None,
                  workers: int | None = None, limit: int | None = None,
                  on_written: Callable[[list[str], np.ndarray], None] | None = None) -> int:
    """Embed every item lacking a vector for this backbone (+mask); resumable, per-batch writes
    (each batch then goes to ``on_written``, if given).

    Vectors made with other weights than the embedder's are dropped first and redone."""
    embedder = embedder or Embedder(backbone, settings, mask=mask)
    drop_stale_vectors(repo, embedder)
    if embedder.source:
        repo.set_vectors_source(embedder.model_id, embedder.source)
    jobs = catalog_jobs(repo, settings, embedder.model_id, limit)
    log.info("%s: %d items to embed", embedder.model_id, len(jobs))

    def sink(skus: list[str], vecs: np.ndarray) -> None:
        repo.put_vectors(embedder.model_id, skus, vecs)
        if on_written is not None:
            on_written(skus, vecs)

    return run_job(embedder, jobs, sink, batch_size=batch_size, workers=workers,
                   progress=progress)


def embed_and_pack(repo, settings, backbone: str, *, mask: bool = False, batch_size: int = 64,
                   progress: Progress | None = None, embedder: Embedder | None = None,
                   workers: int | None = None, limit: int | None = None) -> int:
    """embed_catalog, then, when anything was embedded, pack the model's vectors: the snapshot
    in MongoDB and the disk cache under ``settings.cache_dir``, so the first whole-catalog
    read of any host reads a few blocks instead of one document per vector. The new state is
    the previous packed one plus the rows just written (``pack_added``: adding 10 items to a
    large catalog does not read every vector back). Packing is best effort: a failure is
    logged, the embedding stands."""
    from core.index.vectorcache import VectorCache, pack_added

    embedder = embedder or Embedder(backbone, settings, mask=mask)
    model_id = embedder.model_id
    before = (repo.vectors_version(model_id), repo.vector_count(model_id))
    added: list[tuple[list[str], np.ndarray]] = []
    n = embed_catalog(repo, settings, backbone, mask=mask, batch_size=batch_size,
                      progress=progress, embedder=embedder, workers=workers, limit=limit,
                      on_written=lambda skus, vecs: added.append((list(skus), vecs)))
    if n:
        try:
            pack_added(repo, model_id, VectorCache(settings.cache_dir), before, added)
        except Exception as exc:  # the vectors are stored; packing only speeds up reads
            log.warning("could not pack the vectors of %r: %s", model_id, exc)
    return n
