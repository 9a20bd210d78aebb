"""The stylist: score an outfit, fill in the blank, complete the look from the catalog.

Pieces are catalog items (their stored vectors) or photos (embedded by the image model the
compatibility network was trained on, with the category from its classifier head). Scores are
probabilities that the pieces go together; the weakest pair says what breaks a look, and
missing pieces (a top and a bottom or a one-piece, and shoes) are reported apart from the score.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.config import Settings
from core.images import load_image
from core.models.embed import LazyEmbedder
from core.models.manifest import stale_warning
from core.outfits.data import OPTIONAL_SLOTS, missing_slots
from core.outfits.explain import GOES_TOGETHER, Facts, Verdict, verdict
from core.outfits.features import (
    HIST_DIM,
    CatalogFeatures,
    colour_histogram,
    item_meta,
    side_features,
)
from core.outfits.model import load_compat, soft_min
from core.outfits.pipeline import default_weights, load_features
from core.search.ranking import top_indices
from core.storage.records import Item
from core.tagging.photo import piece_category
from core.taxonomy import UNISEX, family_of, wearable_genders

log = logging.getLogger(__name__)
AUTO = "auto"  # complete(): whom the look is for, taken from its pieces
N_GUESSES = 3  # a photo's top category guesses, offered to its owner to correct


@dataclass
class Piece:
    vector: np.ndarray
    side: np.ndarray  # colour histogram + catalog facts (features.side_features)
    category: str | None
    sku: str | None = None
    label: str = ""
    gender: str | None = None  # the catalog's, or a photo's when its owner says
    season: str | None = None
    colour: str | None = None
    pattern: str | None = None
    guesses: list[tuple[str, float]] = field(default_factory=list)  # a photo's top categories

    def with_facts(self, season: str | None, gender: str | None) -> Piece:
        """A photo piece with the season and gender its owner states (None: unknown), which
        the picture alone may not show."""
        return replace(self, side=side_features(self.side[:HIST_DIM], item_meta(season, gender)),
                       gender=gender, season=season)

    def as_category(self, category: str | None) -> Piece:
        """A photo piece with the category its owner says it is (a corrected guess)."""
        tail = f" ({self.category})"
        name = self.label[:-len(tail)] if self.category and self.label.endswith(tail) else \
            self.label
        return replace(self, category=category, label=f"{name} ({category})" if category else name)

    @property
    def facts(self) -> Facts:
        return Facts(self.category, self.gender, self.season, self.colour, self.pattern)

    @property
    def family(self) -> str | None:
        return family_of(self.category)


@dataclass
class OutfitScore:
    score: float | None  # probability that the pieces go together (None below two pieces)
    pairs: np.ndarray  # m x m pair probabilities (nan on the diagonal)
    labels: list[str]
    missing: list[str] = field(default_factory=list)
    facts: list[Facts] = field(default_factory=list)  # per piece, what explains a clash

    @property
    def weakest(self) -> tuple[int, int, float] | None:
        if len(self.labels) < 2:
            return None
        m = np.where(np.isnan(self.pairs), np.inf, self.pairs)
        i, j = np.unravel_index(int(np.argmin(m)), m.shape)
        return int(min(i, j)), int(max(i, j)), float(m[i, j])

    @property
    def goes_together(self) -> bool | None:
        """Whether every pair goes together (the soft-minimum score then does too)."""
        return None if self.score is None else self.weakest[2] >= GOES_TOGETHER

    def explain(self) -> Verdict:
        """The verdict with its kind and the clashing pairs, each with its reasons."""
        return verdict(self.score, self.pairs, self.labels, self.facts)

    def verdict(self, with_missing: bool = True) -> str:
        """One sentence on the look (and, ``with_missing``, what it still lacks)."""
        text = self.explain().text
        if self.missing and with_missing and self.score is not None:
            text += " Still missing: " + ", ".join(self.missing) + "."
        return text

    def to_json(self) -> dict:
        w = self.weakest
        return {"score": self.score, "goes_together": self.goes_together,
                "labels": self.labels, "missing": self.missing, "verdict": self.verdict(),
                "pairs": [[None if np.isnan(x) else round(float(x), 4) for x in row]
                          for row in self.pairs],
                "weakest": None if w is None else {"a": self.labels[w[0]],
                                                   "b": self.labels[w[1]], "p": w[2]},
                "clashes": [{"a": self.labels[c.i], "b": self.labels[c.j],
                             "p": round(c.p, 4), "reasons": list(c.reasons)}
                            for c in self.explain().clashes]}


@dataclass
class Suggestion:
    item: Item
    score: float  # the outfit's score with this item added

    def to_json(self, data_dir: Path | None = None) -> dict:
        path = Path(self.item.image_path)
        if data_dir is not None and not path.is_absolute():
            path = Path(data_dir) / path
        return {"sku": self.item.sku, "score": round(self.score, 4),
                "category": self.item.category, "gender": self.item.gender,
                "attrs": self.item.attrs,
                "image_path": str(path)}


def piece_label(item: Item) -> str:
    colour = (item.attrs or {}).get("color")
    return f"{colour} {item.category}" if colour else item.category


class Stylist:
    """The compatibility network and the catalog features it reads."""

    def __init__(self, settings: Settings, *, weights: Path | None = None, embedder=None):
        self.settings = settings
        self.model, self.baseline, self.meta = load_compat(weights or default_weights(settings))
        self.model_id = self.model.cfg.image_model
        self.warning = stale_warning(settings.weights_dir, self.model_id, self.meta,
                                     "outfit model", "train compat")
        self._embedder = LazyEmbedder(self.model_id, settings, embedder)
        self._lock = threading.Lock()
        self._feats: tuple[tuple, CatalogFeatures] | None = None

    @property
    def embedder(self):
        """The image model that made the catalog vectors (for photos)."""
        return self._embedder.get()

    def features(self, repo) -> CatalogFeatures:
        """Catalog features, rebuilt when the catalog or its vectors change."""
        stamp = (repo.catalog_version(), repo.vector_count(self.model_id),
                 repo.vectors_version(self.model_id))
        with self._lock:
            if self._feats is None or self._feats[0] != stamp:
                self._feats = (stamp, load_features(self.settings, repo, self.model_id,
                                                    img_dim=self.model.cfg.img_dim))
            return self._feats[1]

    def item_piece(self, repo, sku: str) -> Piece:
        """A catalog item as a piece (KeyError when unknown or not embedded yet)."""
        feats = self.features(repo)
        if sku not in feats.row:
            if repo.get_item(sku) is None:
                raise KeyError(f"no item {sku!r} in the catalog")
            raise KeyError(f"item {sku!r} has no {self.model_id} vector yet: run "
                           "`python -m core embed`")
        r = feats.row[sku]
        item = feats.items[r]
        attrs = item.attrs or {}
        return Piece(feats.vectors[r], feats.side[r], item.category, sku, piece_label(item),
                     item.gender or None, attrs.get("season"), attrs.get("color"),
                     attrs.get("pattern"))

    def photo_piece(self, source: str | Path | bytes | Image.Image, *,
                    name: str | None = None) -> Piece:
        """A photo as a piece (raises ImageRejected for unusable files)."""
        image = source if isinstance(source, Image.Image) else load_image(source, name=name)
        category, guesses = None, []
        if getattr(self.embedder, "can_classify", False):
            vecs, preds = self.embedder.embed_and_classify([image], k=N_GUESSES)
            guesses = [(str(c), float(p)) for c, p in preds[0]]
            category = piece_category(guesses)
        else:
            vecs = self.embedder.embed_images([image])
        piece = Piece(vecs[0].astype(np.float32), side_features(colour_histogram(image)),
                      None, None, name or "photo", guesses=guesses)
        return piece.as_category(category)

    @torch.inference_mode()
    def _pair_logits(self, a: list[Piece], b: list[Piece]) -> np.ndarray:
        """len(a) x len(b) pair logits."""
        if not a or not b:
            return np.zeros((len(a), len(b)), np.float32)
        va = torch.from_numpy(np.stack([p.vector for p in a]).astype(np.float32))
        ha = torch.from_numpy(np.stack([p.side for p in a]).astype(np.float32))
        vb = torch.from_numpy(np.stack([p.vector for p in b]).astype(np.float32))
        hb = torch.from_numpy(np.stack([p.side for p in b]).astype(np.float32))
        n, m = len(a), len(b)
        out = self.model.pair_logits(va.repeat_interleave(m, 0), ha.repeat_interleave(m, 0),
                                     vb.repeat(n, 1), hb.repeat(n, 1))
        return out.reshape(n, m).numpy()

    def score(self, pieces: list[Piece]) -> OutfitScore:
        """The outfit's score, its pair matrix and what it still lacks."""
        m = len(pieces)
        labels = [p.label or p.sku or f"piece {i + 1}" for i, p in enumerate(pieces)]
        pairs = np.full((m, m), np.nan)
        missing = missing_slots([p.family for p in pieces])
        facts = [p.facts for p in pieces]
        if m < 2:
            return OutfitScore(None, pairs, labels, missing, facts)
        logits = self._pair_logits(pieces, pieces)
        iu = np.triu_indices(m, 1)
        probs = 1 / (1 + np.exp(-logits))
        pairs[iu] = probs[iu]
        pairs[(iu[1], iu[0])] = probs[iu]
        outfit = soft_min(torch.from_numpy(logits[iu][None].astype(np.float32)))
        return OutfitScore(float(torch.sigmoid(outfit)[0]), pairs, labels, missing, facts)

    def fill_in(self, pieces: list[Piece], candidates: list[Piece]) -> list[float]:
        """The outfit's score with each candidate added (fill in the blank)."""
        return self._with_each(pieces, candidates).tolist()

    def _with_each(self, pieces: list[Piece], candidates: list[Piece]) -> np.ndarray:
        """The look's score with each candidate added: the pieces' own pairs once, then each
        candidate against the pieces, in batches."""
        base = self._pair_logits(pieces, pieces)[np.triu_indices(len(pieces), 1)]
        logits = np.concatenate([self._pair_logits(candidates[i:i + 2048], pieces)
                                 for i in range(0, len(candidates), 2048)])
        pairs = np.concatenate([np.repeat(base[None], len(candidates), 0), logits], axis=1)
        return torch.sigmoid(soft_min(torch.from_numpy(pairs.astype(np.float32)))).numpy()

    def slots_to_fill(self, pieces: list[Piece]) -> list[str]:
        """Missing pieces first, then the optional ones the look has none of."""
        families = {p.family for p in pieces}
        return missing_slots(list(families)) + [s for s in OPTIONAL_SLOTS if s not in families]

    def look_gender(self, repo, pieces: list[Piece]) -> str | None:
        """Whom the look is for, from its catalog pieces and the photos whose gender was
        stated: their one gender other than unisex, or None (unknown, unisex only, or mixed)."""
        feats = self.features(repo)
        genders = {feats.items[feats.row[p.sku]].gender if p.sku in feats.row else p.gender
                   for p in pieces}
        genders -= {None, "", UNISEX}
        return genders.pop() if len(genders) == 1 else None

    def complete(self, repo, pieces: list[Piece], *, slots: list[str] | None = None,
                 k: int = 4, split: str | None = None, gender: str | None = AUTO
                 ) -> dict[str, list[Suggestion]]:
        """For each slot (default: :meth:`slots_to_fill`), the k catalog items of that garment
        family that make the best-scored outfit with the pieces.

        ``gender`` limits suggestions to items for that gender or unisex (items without one
        too): the catalog knows whom an item is for, which its picture may not show. AUTO
        takes it from the look (:meth:`look_gender`); None suggests for anyone.
        """
        if not pieces:
            raise ValueError("add at least one piece to complete the look")
        feats = self.features(repo)
        if gender == AUTO:
            gender = self.look_gender(repo, pieces)
        fits = wearable_genders(gender)
        taken = {p.sku for p in pieces if p.sku}
        out: dict[str, list[Suggestion]] = {}
        for slot in slots if slots is not None else self.slots_to_fill(pieces):
            rows = [int(r) for r in feats.rows_of_family(slot, split)
                    if feats.skus[int(r)] not in taken
                    and (fits is None or feats.items[int(r)].gender in fits)]
            if not rows:
                out[slot] = []
                continue
            cands = [Piece(feats.vectors[r], feats.side[r], feats.items[r].category,
                           feats.skus[r]) for r in rows]
            scores = self._with_each(pieces, cands)
            best = top_indices(scores, k)
            out[slot] = [Suggestion(feats.items[rows[int(b)]], float(scores[int(b)]))
                         for b in best]
        return out


def stylist(settings: Settings) -> Stylist:
    """Factory for the UI's resource cache and the CLI."""
    return Stylist(settings)
