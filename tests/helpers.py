"""Test data builders shared by the suites (importable as ``tests.helpers``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

COLORS = {"red": (200, 30, 40), "navy": (20, 30, 90), "white": (240, 240, 235),
          "green": (40, 140, 60), "yellow": (230, 200, 40)}
CATEGORIES = ["dress", "tee", "skirt", "jacket"]


def make_small_catalog(repo, data_dir: Path, n: int = 12, size: int = 64) -> list:
    """n items with small real JPEGs under data_dir/images, upserted into repo."""
    from PIL import Image, ImageDraw

    from core.storage import Item

    img_dir = Path(data_dir) / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    names = list(COLORS)
    items = []
    for i in range(n):
        color = names[i % len(names)]
        img = Image.new("RGB", (size, size), (250, 250, 250))
        ImageDraw.Draw(img).rectangle(
            [size // 5, size // 6 + i % 5, 4 * size // 5, 5 * size // 6], fill=COLORS[color])
        img.save(img_dir / f"t{i:03d}.jpg", quality=90)
        items.append(Item(
            sku=f"T{i:03d}", image_path=f"images/t{i:03d}.jpg", hash=f"hash{i:03d}",
            category=CATEGORIES[i % len(CATEGORIES)], name=f"{color} item {i}",
            attrs={"color": color, "pattern": "solid", "season": "summer"},
            price=20.0 + i, split=["train", "val", "test"][i % 3], source="test",
        ))
    repo.upsert_items(items)
    return items


def attribute_vectors(items, dim: int = 32, seed: int = 0):
    """Unit vectors that carry what an image model reads (category, colour, pattern, season,
    gender) plus noise: stand-ins for embeddings without running a model."""
    import numpy as np

    rng = np.random.default_rng(seed)
    table: dict[tuple[str, str], np.ndarray] = {}
    vecs = []
    for it in items:
        v = rng.normal(size=dim) * 0.3
        for kind, value in (("cat", it.category), ("color", it.attrs.get("color")),
                            ("pattern", it.attrs.get("pattern")),
                            ("season", it.attrs.get("season")), ("gender", it.gender)):
            v = v + table.setdefault((kind, str(value)), rng.normal(size=dim))
        vecs.append(v / np.linalg.norm(v))
    return np.stack(vecs).astype(np.float32)


def make_shop_catalog(repo, data_dir: Path, n: int = 24, dim: int = 16) -> list:
    """``make_small_catalog`` items sold in three demo stores (Paris, London, Milan), for
    women or unisex, with attribute vectors (no image model)."""
    from core.demo.stores import STORES
    from core.storage import Store

    items = make_small_catalog(repo, data_dir, n)
    stores = [Store(**s) for s in STORES[:3]]
    repo.put_docs("stores", [s.to_doc() for s in stores])
    for i, it in enumerate(items):
        it.store_id = stores[i % 3].store_id
        it.gender = "unisex" if i % 4 == 3 else "women"
        repo.update_item_fields(it.sku, {"store_id": it.store_id, "gender": it.gender})
    repo.put_vectors("studio_encoder", [it.sku for it in items], attribute_vectors(items, dim))
    return items


def run_cli(env: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m core ARGS` in a subprocess with ``env``; stdout and stderr captured."""
    return subprocess.run([sys.executable, "-m", "core", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def cli_json(env: dict, *args: str) -> dict | list:
    """The JSON a successful `python -m core ARGS --json` prints."""
    run = run_cli(env, *args, "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def put_random_vectors(repo, n: int = 23, d: int = 8, seed: int = 0, model: str = "m1"):
    """n random vectors of ``model`` written out of sku order; returns (skus, vectors) sorted
    by sku, as a load gives them back."""
    import numpy as np

    rng = np.random.default_rng(seed)
    skus = [f"S{i:03d}" for i in rng.permutation(n)]  # written out of order
    vecs = rng.standard_normal((n, d)).astype(np.float32)
    repo.put_vectors(model, skus, vecs)
    order = np.argsort(skus)
    return [skus[i] for i in order], vecs[order]
