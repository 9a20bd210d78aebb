"""FashionIQ-format folders train and evaluate through the same CLI commands as the catalog."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from core.models.studio import new_encoder, save_checkpoint

COLOURS = {"red": (200, 30, 40), "blue": (40, 60, 200), "black": (20, 20, 20),
           "white": (240, 240, 240), "green": (40, 150, 60), "pink": (240, 150, 180)}


def _fashioniq(root, images, n: int = 36) -> None:
    names = list(COLOURS)
    for i in range(n):
        Image.new("RGB", (48, 64), COLOURS[names[i % 6]]).save(images / f"B{i:03d}.jpg")
    split_of = {"train": range(0, 24), "val": range(24, 36)}
    for split, ids in split_of.items():
        ids = list(ids)
        (root / "image_splits").mkdir(exist_ok=True)
        (root / "image_splits" / f"split.dress.{split}.json").write_text(
            json.dumps([f"B{i:03d}" for i in ids]))
        entries = [{"candidate": f"B{a:03d}", "target": f"B{b:03d}",
                    "captions": [f"is {names[b % 6]}", "is a different colour"]}
                   for a, b in zip(ids, ids[1:] + ids[:1], strict=True)]
        (root / "captions").mkdir(exist_ok=True)
        (root / "captions" / f"cap.dress.{split}.json").write_text(json.dumps(entries))


@pytest.mark.slow  # trains a model: over 20 s
def test_train_and_eval_on_a_fashioniq_folder(settings, env_for, tmp_path):
    root, images = tmp_path / "fiq", tmp_path / "images"
    root.mkdir()
    images.mkdir()
    _fashioniq(root, images)
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    settings.weights_dir / "studio_encoder.pt")
    out = tmp_path / "fiq_combiner.pt"
    env = env_for()
    args = ["--fashioniq", str(root), "--images", str(images), "--json"]
    run = subprocess.run([sys.executable, "-m", "core", "train", "feedback", "--epochs", "2",
                          "--out", str(out), *args], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    trained = json.loads(run.stdout)
    assert trained["data"]["source"] == "fashioniq"
    assert trained["data"]["pairs"] == {"train": 24, "val": 12, "test": 0}
    assert trained["metrics"]["split"] == "val"
    assert not (settings.weights_dir / "manifest.json").exists()  # --out outside weights/
    run = subprocess.run([sys.executable, "-m", "core", "eval", "feedback", "--weights", str(out),
                          *args], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["n"] == 12 and set(report["per_family"]) == {"dress"}
    assert 0.0 <= report["r10"] <= 1.0 and report["attr_hit_at_10"] is None


def test_malformed_fashioniq_file_is_a_one_line_error(settings, env_for, tmp_path):
    root = tmp_path / "fiq"
    (root / "captions").mkdir(parents=True)
    (root / "captions" / "cap.shirt.train.json").write_text(
        json.dumps([{"candidate": "A", "target": "B", "captions": "is red"}]))
    run = subprocess.run([sys.executable, "-m", "core", "train", "feedback", "--fashioniq",
                          str(root), "--images", str(tmp_path)], env=env_for(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 2
    assert "cap.shirt.train.json: entry 0: 'captions' must be" in run.stderr
