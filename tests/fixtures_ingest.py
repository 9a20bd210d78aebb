"""Tiny sources in every ingest format, drawn with PIL by the tests (no generator dependency)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

from tests.fixtures_bad import jpeg_bytes

COLORS = {"red": (200, 30, 30), "blue": (30, 60, 200), "green": (40, 160, 60),
          "black": (20, 20, 20), "white": (240, 240, 240), "yellow": (230, 210, 40)}
DEMO_CATEGORIES = ("dress", "tee", "jeans", "hat", "blazer", "skirt")


def garment(color: str, size: int = 64, seed: int = 0) -> Image.Image:
    """A flat garment-like shape on a plain background."""
    img = Image.new("RGB", (size, size), (235, 232, 228))
    draw = ImageDraw.Draw(img)
    m = 8 + seed % 5
    draw.polygon([(m, m + 6), (size // 2, m), (size - m, m + 6), (size - m - 6, size - m),
                  (m + 6, size - m)], fill=COLORS[color])
    draw.line([(m, size // 2), (size - m, size // 2 + seed % 7)], fill=(255, 255, 255), width=2)
    return img


def mask_for(img: Image.Image) -> Image.Image:
    """Colour-coded mask: garment pixels one colour, background black (palette PNG)."""
    bg = img.getpixel((0, 0))
    mask = Image.new("P", img.size, 0)
    mask.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    px = img.load()
    for y in range(img.height):
        for x in range(img.width):
            if px[x, y] != bg:
                mask.putpixel((x, y), 1)
    return mask


def make_demo_catalog(root: Path, n: int = 6, *, broken_line: bool = False) -> Path:
    """A catalog in the fashion-studio-demo layout with ``n`` items, stores, outfits, pairs."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    colors = list(COLORS)
    lines = []
    for i in range(n):
        sku = f"demo-{i:04d}"
        color = colors[i % len(colors)]
        img = garment(color, seed=i)
        img.save(root / "images" / f"{sku}.jpg", quality=90)
        mask_for(img).save(root / "masks" / f"{sku}.png")
        lines.append(json.dumps({
            "sku": sku, "image": f"images/{sku}.jpg", "mask": f"masks/{sku}.png",
            "category": DEMO_CATEGORIES[i % len(DEMO_CATEGORIES)], "family": "top",
            "name": f"{color.title()} item {i}",
            "attrs": {"color": color, "pattern": "solid", "season": "summer", "sleeve": "short",
                      "length": "regular", "fit": "regular"},
            "price": 10.0 + i, "brand": "Acme", "gender": "women", "store_id": f"s{i % 2}",
            "split": ("train", "val", "test")[i % 3], "render": {"background": "plain"},
        }))
    if broken_line:
        lines.insert(1, '{"sku": "demo-broken", "image": ')
        lines.append(json.dumps({"sku": "demo-missing", "image": "images/nope.jpg"}))
    (root / "items.jsonl").write_text("\n".join(lines) + "\n")
    (root / "manifest.json").write_text(json.dumps(
        {"format": "fashion-studio-demo", "items": n, "seed": 0}))
    stores = [{"store_id": f"s{k}", "name": f"Store {k}", "city": "Paris", "lat": 48.85 + k,
               "lon": 2.35} for k in range(2)]
    (root / "stores.json").write_text(json.dumps(stores))
    outfits = [{"outfit_id": "o1", "items": ["demo-0000", "demo-0001"], "style": "casual",
                "compatible": True, "rule": "colour match", "split": "train"},
               {"outfit_id": "o2", "items": ["demo-0002", "demo-9999"], "style": "casual",
                "compatible": False, "rule": "clash", "split": "test"}]
    (root / "outfits.json").write_text(json.dumps(outfits))
    pairs = [{"pair_id": "p1", "reference": "demo-0000", "target": "demo-0003",
              "changes": {"color": "yellow"}, "captions": ["is yellow"], "split": "train"}]
    (root / "pairs.json").write_text(json.dumps(pairs))
    return root


def make_class_folders(root: Path, *, splits: bool = True, per_class: int = 2) -> dict[str, int]:
    """`train/dress/*.jpg`-style (or `dress/*.jpg`) folders; returns images per category."""
    counts: dict[str, int] = {}
    seed = 100
    for split in ("train", "validation") if splits else (None,):
        for category in ("dress", "hat"):
            folder = root / split / category if split else root / category
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(per_class):
                seed += 1
                (folder / f"{category}_{k}.jpg").write_bytes(jpeg_bytes(seed=seed))
                counts[category] = counts.get(category, 0) + 1
    return counts


def make_analysis_json(root: Path, *, missing_crop: bool = False) -> Path:
    """A fashion-analysis JSON (detected garment crops) with two crops beside it."""
    root.mkdir(parents=True, exist_ok=True)
    items = []
    for i, (label, color) in enumerate((("Trousers", "Blue"), ("Shirt", "White"))):
        name = f"det_{i:02d}_crop.jpg"
        garment(color.lower(), seed=40 + i).save(root / name)
        items.append({"crop_file": name, "det_label": label, "det_score": 0.99 - i / 10,
                      "box": [10, 20, 110, 220], "color": {"label": color, "score": 0.84},
                      "pattern": {"label": "Denim" if i == 0 else "Solid", "score": 0.9},
                      "season": {"label": "Spring", "score": 0.8}})
    if missing_crop:
        items.append({"crop_file": "det_09_crop.jpg", "det_label": "hat"})
    path = root / "fashion_analysis_1.json"
    path.write_text(json.dumps({"items": items}))
    return path
