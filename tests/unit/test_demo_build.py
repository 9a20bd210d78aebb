"""Building a demo catalog folder: contents, determinism, atomicity, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.demo import build as build_mod
from core.demo.build import build_catalog, read_manifest
from core.demo.outfits import violations
from core.demo.specs import changes_between
from core.taxonomy import SEGMENT_INDEX, labels_from_mask, plausibility_errors, segment_of

ROOT = Path(__file__).resolve().parents[2]
N, SEED, SIZE = 40, 11, 64


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    build_catalog(out, N, SEED, size=SIZE, workers=1)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _items(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "items.jsonl").read_text().splitlines()]


def test_manifest_and_files(catalog):
    manifest = read_manifest(catalog)
    assert manifest["format"] == "fashion-studio-demo" and manifest["version"] == 1
    assert manifest["items"] == N and manifest["seed"] == SEED and manifest["size"] == SIZE
    assert sum(manifest["splits"].values()) == N
    assert set(manifest["splits"]) == {"train", "val", "test"}
    assert len(manifest["categories"]) >= 15 and len(manifest["colors"]) >= 12
    assert "--items 40 --seed 11" in manifest["command"]
    for name in ("items.jsonl", "stores.json", "outfits.json", "pairs.json"):
        assert (catalog / name).is_file()
    assert not list(catalog.rglob("*.tmp"))


def test_items_are_complete_and_plausible(catalog):
    items = _items(catalog)
    assert [i["sku"] for i in items] == [f"D{n:06d}" for n in range(N)]
    for item in items:
        assert plausibility_errors(item["category"], item["attrs"]) == []
        assert item["name"] and item["brand"] and item["price"] > 0
        assert item["split"] in ("train", "val", "test") and item["store_id"].startswith("S")
        assert set(item["render"]) == {"seed", "shape_seed"}
        image = Image.open(catalog / item["image"])
        assert image.format == "JPEG" and image.size == (SIZE, SIZE)
        labels = labels_from_mask(Image.open(catalog / item["mask"]).convert("RGB"))
        assert (labels == SEGMENT_INDEX[segment_of(item["category"])]).sum() > 0.03 * SIZE**2


def test_stores_have_real_coordinates(catalog):
    stores = json.loads((catalog / "stores.json").read_text())
    assert len(stores) >= 10
    paris = next(s for s in stores if s["city"] == "Paris")
    assert abs(paris["lat"] - 48.86) < 0.1 and abs(paris["lon"] - 2.35) < 0.1
    ids = {s["store_id"] for s in stores}
    assert {i["store_id"] for i in _items(catalog)} <= ids


def test_outfits_and_pairs_are_consistent(catalog):
    by_sku = {i["sku"]: i for i in _items(catalog)}
    outfits = json.loads((catalog / "outfits.json").read_text())
    assert outfits
    for o in outfits:
        members = [by_sku[s] for s in o["items"]]
        assert o["compatible"] == (not violations(members))
        assert {m["split"] for m in members} == {o["split"]}
    pairs = json.loads((catalog / "pairs.json").read_text())
    assert pairs
    for p in pairs:
        assert p["changes"] == changes_between(by_sku[p["reference"]], by_sku[p["target"]])
        assert p["captions"]


def test_same_seed_gives_identical_bytes(catalog, tmp_path):
    build_catalog(tmp_path, N, SEED, size=SIZE, workers=2)
    assert _files(tmp_path) == _files(catalog)


def test_another_seed_gives_another_catalog(catalog, tmp_path):
    build_catalog(tmp_path, N, SEED + 1, size=SIZE, workers=1)
    assert (tmp_path / "items.jsonl").read_bytes() != (catalog / "items.jsonl").read_bytes()


def test_rebuild_is_never_half_complete(tmp_path, monkeypatch):
    build_catalog(tmp_path, 12, 1, size=SIZE, workers=1)
    assert read_manifest(tmp_path) is not None

    def crash(*_args, **_kwargs):
        raise RuntimeError("killed mid-render")

    monkeypatch.setattr(build_mod, "_render_all", crash)
    with pytest.raises(RuntimeError):
        build_catalog(tmp_path, 30, 1, size=SIZE, workers=1)
    assert read_manifest(tmp_path) is None  # the old manifest went before rendering began
    monkeypatch.undo()
    build_catalog(tmp_path, 6, 1, size=SIZE, workers=1)
    assert len(list((tmp_path / "images").iterdir())) == 6  # stale images removed
    assert len(list((tmp_path / "masks").iterdir())) == 6


def test_progress_is_reported(tmp_path):
    seen = []
    build_catalog(tmp_path, 5, 3, size=SIZE, workers=1, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(n, 5) for n in range(1, 6)]


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="n_items"):
        build_catalog(tmp_path, 0, 1)
    with pytest.raises(ValueError, match="size"):
        build_catalog(tmp_path, 3, 1, size=8)


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATA_DIR=str(tmp_path / "data"),
               MONGO_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100")
    return subprocess.run([sys.executable, "-m", "core", "demo", "build", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_cli_json(tmp_path):
    out = tmp_path / "cat"
    proc = _cli("--items", "30", "--seed", "1", "--out", str(out), "--size", "64", "--json",
                tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["items"] == 30 and payload["seed"] == 1 and payload["size"] == 64
    assert payload["format"] == "fashion-studio-demo"
    assert set(payload["splits"]) == {"train", "val", "test"}
    assert payload["out"] == str(out.resolve()) and payload["seconds"] >= 0
    assert len(list((out / "images").glob("D*.jpg"))) == 30
    assert "rendering" in proc.stderr  # the progress bar goes to stderr
    assert np.isfinite(payload["counts"]["pairs"])


def test_cli_rejects_bad_input(tmp_path):
    proc = _cli("--items", "0", "--out", str(tmp_path / "x"), tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "--items" in proc.stderr and not proc.stdout
