"""Refine: a reference (catalog item or photo) + typed feedback -> catalog items, turn by turn.

Empty feedback, or text with no recognisable request, falls back to plain similarity with a
message saying so, never an error. What the text asks is resolved against the reference first
(:func:`core.feedback.rules.resolve`); the combiner model then reads the words that are its to
apply (:func:`core.feedback.rules.model_text`: not "not red" alone, not "longer sleeves" for
a bag) and the rules order its candidates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.config import Settings
from core.feedback.model import load_combiner
from core.feedback.pairs import family_of_item
from core.feedback.parse import ParsedFeedback, parse_feedback
from core.feedback.rules import (
    DOMAINS,
    LABELS,
    Constraints,
    model_text,
    penalty_matrix,
    rank,
    resolve,
    unmet,
)
from core.feedback.text import TextTower, build_text_tower
from core.images import load_image
from core.models.embed import LazyEmbedder
from core.models.manifest import stale_warning
from core.search.pipeline import SearchResult
from core.tagging.photo import PhotoReading
from core.taxonomy import CATEGORIES

log = logging.getLogger(__name__)

WEIGHTS_FILE = "feedback_combiner.pt"
NOT_UNDERSTOOD = "I didn't understand a change to make; showing similar items."
NO_TEXT = "No feedback typed: showing similar items."
POOL = 100  # candidates the combiner proposes for the rule ranking to order


@dataclass
class Reference:
    vector: np.ndarray
    family: str | None  # garment family (top, full, shoes, ...) when known
    sku: str | None = None
    attrs: dict = field(default_factory=dict)  # its colour, pattern, sleeve, ... when known
    category: str | None = None  # its category (a photo's when read surely enough)
    reading: PhotoReading | None = None  # a photo's: what it was read as


@dataclass
class Composed:
    query: np.ndarray
    understood: bool
    message: str | None = None  # shown when the text was empty or not understood
    reading: str = ""  # what the parser recognised ("colour → red; sleeves → long")
    family: str | None = None  # family of a category the text asks for
    parsed: ParsedFeedback | None = None
    rules: Constraints = field(default_factory=Constraints)  # the request, resolved


@dataclass
class RefineOutcome:
    results: list[SearchResult]
    understood: bool
    message: str | None  # shown to the user when the text was empty or not understood
    reading: str  # what was understood ("colour → red; sleeves → short; not: striped")
    model_id: str
    family: str | None = None  # results were limited to this garment family
    notes: list[str] = field(default_factory=list)  # requests nothing in the catalog meets

    def to_json(self, data_dir: Path | None = None) -> list[dict]:
        return [r.to_json(data_dir) for r in self.results]


def default_weights(settings: Settings) -> Path:
    return Path(settings.weights_dir) / WEIGHTS_FILE


class Refiner:
    """The composition model, its text tower and the catalog index of its image model."""

    def __init__(self, settings: Settings, *, weights: Path | None = None,
                 tower: TextTower | None = None, embedder=None, indexes=None):
        from core.index import IndexManager

        self.settings = settings
        self.model, _, self.meta = load_combiner(weights or default_weights(settings))
        cfg = self.model.cfg
        self.tower = tower or build_text_tower(cfg.text_tower, weights_dir=settings.weights_dir,
                                               device=settings.device)
        if self.tower.dim != cfg.txt_dim:
            raise ValueError(f"text tower {self.tower.name!r} gives {self.tower.dim}-d vectors, "
                             f"the feedback model expects {cfg.txt_dim}")
        self.model_id = cfg.image_model
        self.warning = stale_warning(settings.weights_dir, self.model_id, self.meta,
                                     "feedback model", "train feedback")
        self.indexes = indexes or IndexManager(settings)
        self._embedder = LazyEmbedder(self.model_id, settings, embedder)
        self._families: dict[tuple[int, str], list[str]] = {}

    @property
    def embedder(self):
        """The image model that made the catalog vectors (for uploaded photos)."""
        return self._embedder.get()

    def index(self, repo):
        return self.indexes.get(repo, self.model_id)

    def item_vector(self, repo, sku: str) -> np.ndarray:
        """A catalog item's stored vector (embedded from its image when it has none)."""
        return self.item_reference(repo, sku).vector

    def item_reference(self, repo, sku: str) -> Reference:
        """A catalog item as the reference: its stored vector (or its embedded image)."""
        item = repo.get_item(sku)
        if item is None:
            raise KeyError(f"no item {sku!r} in the catalog")
        vec = self.index(repo).vector(sku)
        if vec is None:
            path = Path(item.image_path)
            vec = self.image_vector(path if path.is_absolute() else self.settings.data_dir / path)
        return Reference(np.asarray(vec, dtype=np.float32), family_of_item(item), sku,
                         dict(item.attrs or {}), item.category)

    def image_vector(self, source: str | Path | bytes | Image.Image, *,
                     name: str | None = None) -> np.ndarray:
        """The embedding of a photo (raises ImageRejected for unusable files)."""
        image = source if isinstance(source, Image.Image) else load_image(source, name=name)
        return self.embedder.embed_images([image])[0].astype(np.float32)

    def photo_reference(self, source: str | Path | bytes | Image.Image, *,
                        name: str | None = None) -> Reference:
        """A photo as the reference, with what it reads as (category, family, colour,
        pattern, sleeves; :mod:`core.tagging.photo`), from the forward pass that gives its
        vector: "darker" starts from its read colour, results keep to its category first."""
        from core.tagging.colour_model import query_colour
        from core.tagging.photo import read_photo

        image = source if isinstance(source, Image.Image) else load_image(source, name=name)
        vec, guess, heads = self.embedder.embed_and_read(image, k=3)
        reading = read_photo(guess, heads, query_colour(image, heads, self.embedder,
                                                        self.settings.weights_dir))
        return Reference(np.asarray(vec[0], dtype=np.float32), reading.family,
                         attrs=dict(reading.attrs), category=reading.category, reading=reading)

    def compose(self, ref: np.ndarray | Reference, text: str) -> Composed:
        """The query for a reference and feedback (the reference itself when the text is
        empty, asks for nothing recognisable or leaves the model nothing to read)."""
        if not isinstance(ref, Reference):
            ref = Reference(np.asarray(ref, dtype=np.float32), None)
        vec = np.asarray(ref.vector, dtype=np.float32).reshape(1, -1)
        text = (text or "").strip()
        if not text:
            return Composed(vec[0], False, NO_TEXT)
        parsed = parse_feedback(text)
        if not parsed.understood:
            return Composed(vec[0], False, NOT_UNDERSTOOD)
        rules = resolve(parsed, ref.attrs, category=ref.category, family=ref.family,
                        likely=ref.reading.likely if ref.reading else frozenset())
        words = model_text(parsed, rules)
        if words is None:
            q = vec[0] / max(float(np.linalg.norm(vec[0])), 1e-12)
        else:
            txt = torch.from_numpy(self.tower.encode([words]))
            with torch.inference_mode():
                q = self.model(torch.from_numpy(vec), txt)[0].numpy()
        asked = parsed.requested("category")
        family = CATEGORIES[min(asked)].family if asked and min(asked) in CATEGORIES else None
        return Composed(q, True, None, rules.reading(), family, parsed, rules)

    def family_skus(self, repo, family: str) -> list[str]:
        """Skus of a family's categories (cached per catalog version)."""
        key = (repo.catalog_version(), family)
        if key not in self._families:
            cats = [c for c, info in CATEGORIES.items() if info.family == family] or [family]
            self._families[key] = list(repo.counts_by("sku", {"category": cats}))
        return self._families[key]

    def matching_skus(self, repo, rules: Constraints, family: str | None) -> list[str]:
        """Skus that meet every request (a MongoDB query on the item attributes)."""
        filters: dict = {}
        if family:
            filters["category"] = [c for c, i in CATEGORIES.items() if i.family == family] \
                or [family]
        for attr, values in rules.want.items():
            filters[attr] = sorted(values)
        for attr, values in rules.avoid.items():
            if attr not in filters:
                near = rules.avoid_near.get(attr, frozenset())
                filters[attr] = [v for v in DOMAINS[attr] if v not in values | near]
        return repo.skus_matching(filters)

    def _candidates(self, repo, query: np.ndarray, k: int, subset, exclude, rules: Constraints,
                    family: str | None) -> list:
        """The combiner's best items, plus its best among those that meet every request."""
        index = self.index(repo)
        if not rules:
            return index.search(query[None, :], k, subset=subset, exclude=exclude)[0]
        hits = index.search(query[None, :], max(POOL, 5 * k), subset=subset, exclude=exclude)[0]
        obeying = self.matching_skus(repo, rules, family)
        if obeying:
            hits += index.search(query[None, :], k, subset=obeying, exclude=exclude)[0]
        return list({h.sku: h for h in hits}.values())

    def refine(self, repo, ref: Reference | np.ndarray, text: str, *, k: int = 10,
               exclude: tuple[str, ...] = (), keep_family: bool = True) -> RefineOutcome:
        """Top-k catalog items for the reference changed as the feedback asks.

        With ``keep_family`` results stay in the reference's garment family (tops, dresses,
        shoes, ...) unless the feedback names a category of another family. Items with the
        requested colour / pattern / sleeves / length / fit come first, negated values last
        (:mod:`core.feedback.rules`), the combiner's score orders each group.
        """
        if not isinstance(ref, Reference):
            ref = Reference(np.asarray(ref, dtype=np.float32), None)
        c = self.compose(ref, text)
        family = c.family or (ref.family if keep_family else None)
        subset = self.family_skus(repo, family) if family else None
        if family and not subset:  # nothing of that family in the catalog: search everything
            family, subset = None, None
        hits = self._candidates(repo, c.query, k, subset, exclude, c.rules, family)
        items = {it.sku: it for it in repo.get_items([h.sku for h in hits])}
        found = [SearchResult(items[h.sku], h.score) for h in hits if h.sku in items]
        results, notes = obey(found, c.rules, k, family)
        return RefineOutcome(results, c.understood, c.message, c.reading, self.model_id, family,
                             notes)


def obey(found: list[SearchResult], rules: Constraints, k: int, family: str | None = None
         ) -> tuple[list[SearchResult], list[str]]:
    """The k best candidates by the rule ranking, and a note per request none of them meets."""
    if not rules:
        return found[:k], []
    attrs = [ranked_attrs(r.item) for r in found]
    order = rank(np.array([r.score for r in found]), penalty_matrix([rules], attrs)[0])
    results = [found[i] for i in order[:k]]
    where = f"{family} " if family else ""
    notes = [f"No {where}item in the catalog has {LABELS[a]} {v}: showing the closest items."
             for a, v in unmet([ranked_attrs(r.item) for r in results], rules)]
    return results, notes


def ranked_attrs(item) -> dict:
    """What the rule ranking reads of an item: its attributes and its category."""
    return {**dict(item.attrs or {}), "category": item.category}


def refiner(settings: Settings) -> Refiner:
    """Factory for the UI's resource cache and the CLI."""
    return Refiner(settings)
