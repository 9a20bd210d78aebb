"""Build the demo catalog on disk: images, masks, items, stores, outfits, pairs, manifest.

Every file is written to a temporary name and renamed into place, and ``manifest.json`` is
removed first and written last: a folder without a manifest is an unfinished build.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from core.demo.outfits import make_outfits
from core.demo.pairs import make_pairs
from core.demo.render import render_item
from core.demo.specs import SPLITS, sample_catalog
from core.demo.stores import STORES
from core.parallel import spawn_pool
from core.progress import Progress
from core.taxonomy import CATEGORIES, COLORS, PATTERNS

log = logging.getLogger(__name__)

FORMAT = "fashion-studio-demo"
VERSION = 1
JPEG_QUALITY = 90
MANIFEST = "manifest.json"
_SKU_FILE = re.compile(r"^D\d{6}\.(jpg|png)$")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any, lines: bool = False) -> None:
    if lines:
        text = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in obj)
    else:
        text = json.dumps(obj, indent=1, ensure_ascii=False) + "\n"
    _write_atomic(path, text.encode("utf-8"))


def _render_to_disk(job: tuple[dict, str, int]) -> str:
    """Render one item's catalog shot and mask into ``out`` (runs in a worker process)."""
    item, out, size = job
    image, mask = render_item(item, 0, size)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY)
    _write_atomic(Path(out) / item["image"], buf.getvalue())
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    _write_atomic(Path(out) / item["mask"], buf.getvalue())
    return item["sku"]


def _render_all(items: list[dict], out: Path, size: int, workers: int,
                progress: Progress | None) -> None:
    jobs = [(item, str(out), size) for item in items]
    total = len(jobs)
    if workers <= 1 or total < 32:
        for done, job in enumerate(jobs, 1):
            _render_to_disk(job)
            if progress:
                progress(done, total)
        return
    # spawn, not fork: the caller may be a threaded server (Streamlit).
    with spawn_pool(workers) as pool:
        for done, _ in enumerate(pool.imap(_render_to_disk, jobs, chunksize=8), 1):
            if progress:
                progress(done, total)


def _remove_stale(out: Path, skus: set[str]) -> None:
    """Drop images/masks of an earlier, larger build and temp files of a killed one."""
    for sub in ("images", "masks"):
        for path in (out / sub).iterdir():
            stale = _SKU_FILE.match(path.name) and path.stem not in skus
            if stale or (path.name.startswith(".") and path.name.endswith(".tmp")):
                path.unlink(missing_ok=True)


def default_command(n_items: int, seed: int, size: int, outfits: int | None = None) -> str:
    extra = f" --outfits {outfits}" if outfits is not None else ""
    return f"python -m core demo build --items {n_items} --seed {seed} --size {size}{extra}"


def default_outfits(n_items: int) -> int:
    """Outfits drawn when not asked for a number: one per six items."""
    return max(4, n_items // 6)


def build_catalog(out_dir: str | Path, n_items: int, seed: int, *, size: int = 256,
                  workers: int = 2, progress: Progress | None = None,
                  command: str | None = None, outfits: int | None = None) -> dict:
    """Render an n-item demo catalog into ``out_dir``; returns the manifest.

    ``outfits`` outfits are drawn (default :func:`default_outfits`), about half of them broken.

    Deterministic: the same ``n_items``, ``seed`` and ``size`` give byte-identical files
    whatever ``workers`` is. ``progress(done, total)`` is called as items are rendered.
    """
    if n_items < 1:
        raise ValueError(f"n_items must be at least 1 (got {n_items})")
    if not 32 <= size <= 1024:
        raise ValueError(f"size must be between 32 and 1024 pixels (got {size})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for sub in ("images", "masks"):
        (out / sub).mkdir(exist_ok=True)
    items = sample_catalog(n_items, seed)
    log.info("rendering %d items at %d px with %d worker(s) into %s", n_items, size, workers,
             out)
    _render_all(items, out, size, max(1, workers), progress)
    n_outfits = default_outfits(n_items) if outfits is None else outfits
    outfits = make_outfits(items, np.random.default_rng([int(seed), 0x0F17]), n_outfits)
    pairs = make_pairs(items, np.random.default_rng([int(seed), 0x9A12]), n_items)
    _write_json(out / "items.jsonl", items, lines=True)
    _write_json(out / "stores.json", STORES)
    _write_json(out / "outfits.json", outfits)
    _write_json(out / "pairs.json", pairs)
    _remove_stale(out, {i["sku"] for i in items})
    split_counts = Counter(i["split"] for i in items)
    manifest = {
        "format": FORMAT, "version": VERSION, "seed": int(seed), "items": n_items,
        "size": size, "categories": list(CATEGORIES), "colors": list(COLORS),
        "patterns": list(PATTERNS), "splits": {s: split_counts.get(s, 0) for s in SPLITS},
        "counts": {"outfits": len(outfits), "pairs": len(pairs), "stores": len(STORES),
                   "by_category": dict(sorted(Counter(i["category"] for i in items).items()))},
        "files": {"items": "items.jsonl", "stores": "stores.json", "outfits": "outfits.json",
                  "pairs": "pairs.json", "images": "images/", "masks": "masks/"},
        "command": command or default_command(n_items, seed, size),
    }
    _write_json(out / MANIFEST, manifest)
    return manifest


def read_manifest(out_dir: str | Path) -> dict | None:
    """The manifest of a complete demo build in ``out_dir``, or None when there is none."""
    path = Path(out_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("format") == FORMAT else None
