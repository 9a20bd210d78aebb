"""Reader for the demo catalog written by `python -m core demo build` (format fashion-studio-demo).

Layout: manifest.json, items.jsonl (one item per line), images/, masks/, stores.json,
outfits.json, pairs.json. Items become catalog items (sku kept); stores, outfits and pairs
become documents keyed by their ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.ingest.sources import Candidate, RowError, Source, apply_metadata, read_json

DEMO_FORMAT = "fashion-studio-demo"
# side file -> (document kind, key field, fields every entry needs)
SIDE_DOCS = {
    "stores.json": ("stores", "store_id", ("name", "city", "lat", "lon")),
    "outfits.json": ("outfits", "outfit_id", ("items",)),
    "pairs.json": ("pairs", "pair_id", ("reference", "target")),
}
_EXTRA_KEYS = ("family", "render")
_ROW_KEYS = ("image", "mask", "line", *_EXTRA_KEYS)  # item keys that are not metadata


def is_demo_catalog(path: Path) -> bool:
    """True for a directory whose manifest.json declares the demo format."""
    manifest = path / "manifest.json"
    if not (path.is_dir() and manifest.is_file()):
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == DEMO_FORMAT


def read_demo(root: Path) -> Source:
    source = Source(format="demo", root=root)
    items_file = root / "items.jsonl"
    if not items_file.is_file():
        source.reject("items.jsonl", "missing from the demo catalog")
        source.fatal = True
        return source
    with items_file.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                source.candidates.append(_item(root, json.loads(line)))
            except json.JSONDecodeError as exc:
                source.reject("items.jsonl", f"line {lineno}: invalid JSON ({exc.msg})")
            except RowError as exc:
                source.reject("items.jsonl", f"line {lineno}: {exc}")
    for name, (kind, key, needs) in SIDE_DOCS.items():
        if (root / name).is_file():
            source.docs[kind] = _side_docs(source, root / name, key, needs)
    return source


def _item(root: Path, row: Any) -> Candidate:
    if not isinstance(row, dict):
        raise RowError(f"expected an object, got {type(row).__name__}")
    sku = str(row.get("sku") or "").strip()
    if not sku:
        raise RowError("no sku")
    image = str(row.get("image") or "").strip()
    if not image:
        raise RowError(f"item {sku}: no image")
    path = root / image
    if not path.is_file():
        raise RowError(f"item {sku}: image {image} not found")
    mask = None
    if str(row.get("mask") or "").strip():
        mask = root / str(row["mask"]).strip()
        if not mask.is_file():
            raise RowError(f"item {sku}: mask {row['mask']} not found")
    cand = Candidate(file=path, label=image, mask=mask)
    apply_metadata(cand, row, also=_ROW_KEYS)
    cand.extra.update({k: row[k] for k in _EXTRA_KEYS if k in row})
    return cand


def _side_docs(source: Source, path: Path, key: str, needs: tuple[str, ...]
               ) -> list[dict[str, Any]]:
    """Documents of a side file, each keyed by ``key`` as ``_id``; bad entries are rejected."""
    try:
        data = read_json(path)
    except RowError as exc:
        source.reject(path.name, str(exc))
        return []
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        source.reject(path.name, f"expected a list of objects, got {type(data).__name__}")
        return []
    docs = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or entry.get(key) in (None, ""):
            source.reject(path.name, f"entry {i}: no {key}")
            continue
        missing = [f for f in needs if entry.get(f) in (None, "")]
        if missing:
            source.reject(path.name, f"entry {i} ({entry[key]}): no {', '.join(missing)}")
            continue
        docs.append({**entry, "_id": str(entry[key])})
    return docs


def referenced_skus(kind: str, doc: dict[str, Any]) -> set[str]:
    """Item skus an outfit or pair points at (so documents never point at missing items)."""
    if kind == "outfits":
        refs = doc.get("items") or []
    elif kind == "pairs":
        refs = [doc.get("reference"), doc.get("target")]
    else:
        return set()
    out = set()
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict):
            ref = ref.get("sku")
        if isinstance(ref, str | int) and str(ref):
            out.add(str(ref))
    return out
