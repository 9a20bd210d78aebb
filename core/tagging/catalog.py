"""Auto-tagging of catalog items: predict the category, colour, pattern and sleeves they lack.

Category, pattern and sleeves (when the encoder has those heads; sleeves only for garments
that have them) come from the image encoder's heads in one forward pass per batch; colour and
a second colour from the garment colour reader, on the item's mask when it has one. Values go
in the usual fields (``category``, ``attrs.color``, ``attrs.pattern``, ``attrs.sleeve``) so
filters, recommenders and Refine read them unchanged; a ``tags`` entry beside them says they
were predicted, by what and how surely (see merge.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.progress import Progress
from core.storage import Item, ItemUpdate, Repository, data_file
from core.tagging.merge import TAG_FIELDS, Prediction, fields_to_predict, prediction_update

log = logging.getLogger(__name__)

COLOUR_MODEL = "colour-reader"
BATCH = 32
MODEL_FIELDS = ("category", "pattern", "sleeve")  # read by the image encoder's heads
HEAD_FIELDS = ("pattern", "sleeve")  # of those, by its attribute heads


@dataclass
class TagReport:
    """What a tagging run did: predictions made per field and value, items changed."""

    scanned: int = 0  # items that had a field to (re)predict
    tagged: int = 0  # items whose stored values or tags changed
    fields: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TAG_FIELDS, 0))
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)  # fields no loaded model predicts
    unreadable: list[str] = field(default_factory=list)  # skus whose image could not be read
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def count(self, name: str, value: str) -> None:
        self.fields[name] += 1
        per = self.values.setdefault(name, {})
        per[value] = per.get(value, 0) + 1


def tagger_models(embedder=None, pixel_model=None) -> dict[str, str]:
    """Field -> id of what predicts it: the encoder (by its weights) for category and
    pattern when it has those heads; for colour, the encoder's colour head when it learnt
    real photos' colours and the pixel colour classifier when one is installed (both when
    both), else the colour reader."""
    models: dict[str, str] = {}
    if embedder is not None and embedder.can_classify:
        models["category"] = embedder.source or embedder.model_id
    readers = [embedder.source or embedder.model_id] if (
        embedder is not None and embedder.reads_photo_colour) else []
    if pixel_model is not None:
        readers.append(pixel_model.model_id)
    models["color"] = "+".join(readers) or COLOUR_MODEL
    heads = getattr(getattr(embedder, "model", None), "attr_heads", None)
    for name in HEAD_FIELDS:
        if heads is not None and name in heads:
            models[name] = embedder.source or embedder.model_id
    return models


def plan(repo: Repository, models: dict[str, str], *, redo: bool = False,
         skus: list[str] | None = None) -> list[tuple[Item, list[str]]]:
    """Items (all, or those of ``skus``) with fields to (re)predict, and those fields."""
    items = repo.get_items(skus) if skus is not None else repo.iter_items()
    todo = []
    for item in items:
        names = fields_to_predict(item, models, redo=redo)
        if names:
            todo.append((item, names))
    return todo


def tag_catalog(repo: Repository, settings, embedder=None, *, redo: bool = False,
                skus: list[str] | None = None, batch_size: int = BATCH,
                progress: Progress | None = None) -> TagReport:
    """Predict missing (and stale predicted; every predicted with ``redo``) category, colour,
    pattern and sleeves of the catalog's items, batch by batch; supplied values are never
    touched."""
    from core.tagging.colour_model import load_pixel_model

    t0 = time.perf_counter()
    pixel_model = load_pixel_model(settings.weights_dir)
    models = tagger_models(embedder, pixel_model)
    report = TagReport(unavailable=[f for f in TAG_FIELDS if f not in models])
    todo = plan(repo, models, redo=redo, skus=skus)
    report.scanned = len(todo)
    log.info("tagging %d items (%s)", len(todo), ", ".join(models))
    if progress is not None:
        progress(0, len(todo))
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        updates = _tag_batch(chunk, settings.data_dir, embedder, models, report, pixel_model)
        repo.apply_item_updates(updates)
        report.tagged += len(updates)
        if progress is not None:
            progress(start + len(chunk), len(todo))
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


def _tag_batch(chunk: list[tuple[Item, list[str]]], data_dir: Path, embedder,
               models: dict[str, str], report: TagReport, pixel_model=None
               ) -> list[ItemUpdate]:
    """Read a batch's pictures once; predict what each item needs; the merge rule's changes."""
    size = embedder.preprocess.size if embedder is not None else 256
    loaded = []
    for item, names in chunk:
        got = _load(item, data_dir, size)
        if got is None:
            report.unreadable.append(item.sku)
        else:
            loaded.append((item, names, *got))
    heads = [{} for _ in loaded]
    head_colour = embedder is not None and embedder.reads_photo_colour
    by_model = set(MODEL_FIELDS) | ({"color"} if head_colour else set())
    if any(set(names) & by_model for _, names, _, _ in loaded):
        heads = embedder.predict_attrs([img for _, _, img, _ in loaded],
                                       [mask for _, _, _, mask in loaded])
    updates = []
    for (item, names, img, mask), read in zip(loaded, heads, strict=True):
        preds = {n: p for n in names
                 if (p := _predict(n, img, mask, read, models[n], head_colour, pixel_model))}
        if "sleeve" in preds:
            _fit_sleeves(item, preds)
        for name, pred in preds.items():
            report.count(name, pred.value)
        update = prediction_update(item, preds)
        if update is not None:
            updates.append(update)
    return updates


def _predict(name: str, img, mask, read: dict, model: str, head_colour: bool = False,
             pixel_model=None) -> Prediction | None:
    if name == "color":
        from core.tagging.colour_model import photo_colour

        r = photo_colour(img, read.get("color_dist") if head_colour else None, mask=mask,
                         pixel_model=pixel_model)
        return Prediction(r.name, r.confidence, model,
                          {"second": r.second, "share": r.share, "method": r.method})
    if name in read:
        value, confidence = read[name]
        return Prediction(value, confidence, model)
    return None


def _fit_sleeves(item: Item, preds: dict[str, Prediction]) -> None:
    """The sleeve prediction as the item's category (just predicted, else its own) allows:
    "n/a" for shoes, bags and trousers (as sure as the category), none when the category is
    unknown."""
    from core.taxonomy import NA, applies

    category = preds.get("category")
    has = applies("sleeve", category.value if category is not None else item.category)
    if has is None:
        del preds["sleeve"]
    elif not has:
        preds["sleeve"] = Prediction(NA, category.confidence if category else 1.0,
                                     preds["sleeve"].model)


def _load(item: Item, data_dir: Path, size: int):
    """(picture, mask or None) of an item, or None when its picture cannot be read."""
    from PIL import Image

    from core.models.embed import open_for_embedding

    try:
        img = open_for_embedding(data_file(data_dir, item.image_path), size)
        mask = None
        if item.mask_path and data_file(data_dir, item.mask_path).is_file():
            mask = Image.open(data_file(data_dir, item.mask_path))
            mask.load()
    except Exception as exc:  # a bad file must not stop the run; it is logged and counted
        log.warning("tagging: skipping %s: %s", item.sku, exc)
        return None
    return img, mask




def tag_vocabulary(name: str) -> tuple[str, ...]:
    """The values a person may give a tagged field (the catalog's categories, palette
    colours, patterns and sleeve lengths)."""
    from core.taxonomy import CATEGORIES, COLORS, PATTERNS, SLEEVES

    return {"category": tuple(CATEGORIES), "color": tuple(COLORS),
            "pattern": PATTERNS, "sleeve": SLEEVES}[name]


def picked_values(picks: dict[str, str | None]) -> dict[str, str]:
    """What a tag editor saves: the fields given a value, less sleeves when the category
    picked has none (a tee corrected to sneakers)."""
    from core.taxonomy import applies

    out = {name: value for name, value in picks.items() if value}
    if "sleeve" in out and applies("sleeve", out.get("category")) is False:
        del out["sleeve"]
    return out


def correct_tags(repo: Repository, sku: str, values: dict[str, str]) -> Item:
    """Set an item's category, colour, pattern or sleeves as a person says they are: the
    values become supplied (their predicted tags dropped), so tagging never changes them
    again. Returns the item as stored. Raises KeyError for an unknown sku and ValueError for
    an unknown field or value (or sleeves for a category without them); nothing is written
    then."""
    correct_many(repo, {sku: values})
    return repo.get_item(sku)


def _check_field(name: str) -> None:
    if name not in TAG_FIELDS:
        raise ValueError(f"no tagged field {name!r}: one of {', '.join(TAG_FIELDS)}")


def least_sure(repo: Repository, name: str, *, value: str | None = None, limit: int = 8,
               skip: int = 0) -> tuple[list[Item], int]:
    """(the items whose ``name`` field is predicted (as ``value``, when given), least
    confident first, at most ``limit`` after the first ``skip``; how many items have it so
    predicted): what a person checks first."""
    from core.tagging.merge import PREDICTED

    _check_field(name)
    which = {f"tags.{name}.source": PREDICTED}
    if value is not None:
        which[TAG_FIELDS[name]] = value
    return (repo.find_items(which, limit=limit, skip=max(0, skip),
                            sort=f"tags.{name}.confidence"),
            repo.count_items(which))


def correct_many(repo: Repository, values: dict[str, dict[str, str]]) -> int:
    """correct_tags for several items ({sku: {field: value}}), every sku, field and value
    checked before any is written; returns how many items changed."""
    from core.tagging.merge import supplied_update
    from core.taxonomy import applies, plural

    for fields in values.values():
        for name, value in fields.items():
            if name not in TAG_FIELDS:
                raise ValueError(f"cannot set {name!r}: one of {', '.join(TAG_FIELDS)}")
            if value not in tag_vocabulary(name):
                raise ValueError(f"{name} {value!r} is not one of the catalog's: "
                                 f"{', '.join(tag_vocabulary(name))}")
    items = {item.sku: item for item in repo.get_items(list(values))}
    missing = sorted(set(values) - set(items))
    if missing:
        raise KeyError(f"no item {missing[0]!r} in the catalog")
    for sku, fields in values.items():
        category = fields.get("category", items[sku].category)
        if "sleeve" in fields and applies("sleeve", category) is False:
            raise ValueError(f"{plural(category)} have no sleeves: leave the sleeves out")
    updates = [supplied_update(items[sku], fields) for sku, fields in values.items()]
    return repo.apply_item_updates(u for u in updates if u)


def predicted_values(repo: Repository, name: str) -> dict[str, int]:
    """Value -> how many items have it predicted for the ``name`` field, commonest first."""
    from core.tagging.merge import PREDICTED

    _check_field(name)
    counts = repo.counts_by(TAG_FIELDS[name], {f"tags.{name}.source": PREDICTED})
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))
