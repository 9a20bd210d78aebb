"""FashionIQ importer: caption files + image split files + an image folder -> FeedbackData.

Layout (as FashionIQ publishes it; files may also sit side by side in one folder)::

    ROOT/captions/cap.{dress,shirt,toptee}.{train,val,test}.json
        [{"candidate": "B00...", "target": "B00...", "captions": ["is red", "has stripes"]}]
    ROOT/image_splits/split.{dress,shirt,toptee}.{train,val,test}.json
        ["B00...", ...]

Malformed files raise :class:`FashionIQFormatError` naming the file and the entry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.feedback.data import FeedbackData
from core.feedback.pairs import PairRecord
from core.images import IMAGE_EXTS

log = logging.getLogger(__name__)

CATEGORIES = ("dress", "shirt", "toptee")
SPLITS = ("train", "val", "test")


class FashionIQFormatError(ValueError):
    """A FashionIQ file that does not follow the format; the message names file and entry."""


@dataclass
class FiqEntry:
    candidate: str
    target: str | None  # some test releases withhold the target
    captions: list[str]
    category: str
    split: str


@dataclass
class FashionIQ:
    entries: list[FiqEntry] = field(default_factory=list)
    images: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (cat, split) -> ids
    files: list[Path] = field(default_factory=list)


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})"
        raise FashionIQFormatError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FashionIQFormatError(f"{path}: unreadable ({exc})") from None


def read_caption_file(path: Path, *, category: str, split: str) -> list[FiqEntry]:
    """Entries of one cap.*.json file, validated."""
    data = _load_json(path)
    if not isinstance(data, list):
        raise FashionIQFormatError(f"{path}: expected a JSON list of entries, "
                                   f"got {type(data).__name__}")
    out = []
    for i, e in enumerate(data):
        where = f"{path}: entry {i}"
        if not isinstance(e, dict):
            raise FashionIQFormatError(f"{where}: expected an object, got {type(e).__name__}")
        cand, tgt, caps = e.get("candidate"), e.get("target"), e.get("captions")
        if not isinstance(cand, str) or not cand.strip():
            raise FashionIQFormatError(f"{where}: 'candidate' must be a non-empty image id")
        if tgt is not None and (not isinstance(tgt, str) or not tgt.strip()):
            raise FashionIQFormatError(f"{where}: 'target' must be a non-empty image id")
        if tgt is None and split != "test":
            raise FashionIQFormatError(f"{where}: 'target' is missing")
        if (not isinstance(caps, list) or not caps
                or not all(isinstance(c, str) for c in caps)):
            raise FashionIQFormatError(f"{where}: 'captions' must be a non-empty list of strings")
        caps = [c.strip() for c in caps if c.strip()]
        if not caps:
            raise FashionIQFormatError(f"{where}: 'captions' are all empty")
        out.append(FiqEntry(cand.strip(), tgt.strip() if tgt else None, caps, category, split))
    return out


def read_split_file(path: Path) -> list[str]:
    """Image ids of one split.*.json file, validated."""
    data = _load_json(path)
    if not isinstance(data, list):
        raise FashionIQFormatError(f"{path}: expected a JSON list of image ids")
    for i, v in enumerate(data):
        if not isinstance(v, str) or not v.strip():
            raise FashionIQFormatError(f"{path}: entry {i}: expected an image id string, got {v!r}")
    return [v.strip() for v in data]


def _find(root: Path, sub: str, name: str) -> Path | None:
    for p in (root / sub / name, root / name):
        if p.is_file():
            return p
    return None


def load_fashioniq(root: Path, *, categories: Iterable[str] = CATEGORIES,
                   splits: Iterable[str] = SPLITS) -> FashionIQ:
    """Read every caption and split file present under ``root``; none at all is an error."""
    root = Path(root)
    if not root.is_dir():
        raise FashionIQFormatError(f"{root}: not a folder")
    fiq = FashionIQ()
    for cat in categories:
        for split in splits:
            cap = _find(root, "captions", f"cap.{cat}.{split}.json")
            if cap is not None:
                fiq.entries.extend(read_caption_file(cap, category=cat, split=split))
                fiq.files.append(cap)
            img = _find(root, "image_splits", f"split.{cat}.{split}.json")
            if img is not None:
                fiq.images[(cat, split)] = read_split_file(img)
                fiq.files.append(img)
    if not fiq.entries:
        raise FashionIQFormatError(
            f"{root}: no FashionIQ caption files (captions/cap.<dress|shirt|toptee>.<split>.json)")
    return fiq


def image_file(image_dir: Path, image_id: str) -> Path | None:
    for ext in IMAGE_EXTS:
        p = image_dir / f"{image_id}{ext}"
        if p.is_file():
            return p
    return None


def pair_captions(captions: list[str]) -> list[str]:
    """Training variants: each annotator's caption plus both joined, either order.

    Validation and test pairs use the two captions joined by "and" (FashionIQ's usual query).
    """
    out = list(captions)
    if len(captions) >= 2:
        out += [f"{captions[0]} and {captions[1]}", f"{captions[1]} and {captions[0]}"]
    return list(dict.fromkeys(out))


def fashioniq_data(fiq: FashionIQ, image_dir: Path,
                   embed: Callable[[list[Path]], np.ndarray]) -> FeedbackData:
    """Embed the images that exist and build pairs; entries with a missing image are skipped."""
    image_dir = Path(image_dir)
    where: dict[str, tuple[str, str]] = {}  # id -> (category, split)
    for (cat, split), ids in fiq.images.items():
        for i in ids:
            where.setdefault(i, (cat, split))
    for e in fiq.entries:
        for i in (e.candidate, e.target):
            if i:
                where.setdefault(i, (e.category, e.split))
    ids, paths = [], []
    for i in sorted(where):
        p = image_file(image_dir, i)
        if p is not None:
            ids.append(i)
            paths.append(p)
    if not ids:
        raise FashionIQFormatError(f"{image_dir}: none of the {len(where)} FashionIQ images "
                                   f"found (expected files like {next(iter(where))}.jpg)")
    log.info("FashionIQ: %d of %d images found in %s", len(ids), len(where), image_dir)
    vectors = np.asarray(embed(paths), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    info = [{"category": where[i][0], "family": where[i][0], "split": where[i][1], "attrs": {}}
            for i in ids]
    data = FeedbackData(ids, vectors, info, source="fashioniq")
    skipped = 0
    for n, e in enumerate(fiq.entries):
        if e.target is None or e.candidate not in data.row or e.target not in data.row:
            skipped += 1
            continue
        caps = pair_captions(e.captions) if e.split == "train" else [" and ".join(e.captions[:2])]
        data.pairs.append(PairRecord(e.candidate, e.target, {}, e.category, e.category, e.split,
                                     caps, f"fiq:{e.category}:{e.split}:{n}"))
    if skipped:
        log.warning("FashionIQ: %d entries skipped (image missing or no target)", skipped)
    return data
