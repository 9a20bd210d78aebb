"""Linear probe of a frozen ImageNet trunk: hold-out split, probe fit, the real Lite0 trunk on
tiny photo folders, and the `eval probe` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.models.data import holdout_indices
from core.models.probe import C_GRID, fit_probe, probe_trunk


def _folders(root, n_train=6, n_val=3):
    """Red garments in one class folder, blue ones in another, on a light backdrop."""
    rng = np.random.default_rng(0)
    colours = {"pants": (180, 30, 30), "shoes": (30, 40, 170)}
    for split, n in (("train", n_train), ("validation", n_val)):
        for cls, rgb in colours.items():
            (root / split / cls).mkdir(parents=True)
            for i in range(n):
                a = np.full((48, 40, 3), 225, np.uint8)
                jitter = rng.integers(-20, 20, 3)
                a[8:40, 6:34] = np.clip(np.array(rgb) + jitter, 0, 255)
                Image.fromarray(a).save(root / split / cls / f"{i}.jpg")


def test_stratified_holdout_holds_out_part_of_every_label():
    labels = ["a"] * 20 + ["b"] * 5 + ["c"]
    fit, held = holdout_indices(labels, 0.1, seed=0)
    assert set(fit) | set(held) == set(range(len(labels))) and not set(fit) & set(held)
    held_labels = [labels[i] for i in held]
    assert held_labels.count("a") == 2 and held_labels.count("b") == 1
    assert held_labels.count("c") == 1  # at least one per label
    again = holdout_indices(labels, 0.1, seed=0)
    assert again[1] == held


def test_fit_probe_separates_separable_features_and_picks_c_on_the_holdout():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 16)) * 4
    y = np.repeat(["x", "y", "z"], 30)
    x = centres[np.repeat(np.arange(3), 30)] + rng.normal(size=(90, 16))
    yt = np.repeat(["x", "y", "z"], 5)
    xt = centres[np.repeat(np.arange(3), 5)] + rng.normal(size=(15, 16))
    out = fit_probe(x, y, xt, yt)
    assert out["top1"] == 1.0 and out["top3"] == 1.0
    assert out["c"] in C_GRID and set(out["holdout_top1"]) == {str(c) for c in C_GRID}
    assert out["n_train"] == 90 and out["n_test"] == 15
    # noise features: the probe is near chance, not perfect
    noise = fit_probe(rng.normal(size=(90, 16)), y, rng.normal(size=(15, 16)), yt)
    assert noise["top1"] < 0.9


def test_probe_of_the_real_lite0_trunk_on_tiny_folders(tmp_path):
    _folders(tmp_path)
    out = probe_trunk(tmp_path, "efficientnet_lite0")
    assert out["trunk"] == "efficientnet_lite0" and out["size"] == 224 and out["dim"] == 1280
    assert out["test_split"] == "validation" and out["n_train"] == 12 and out["n_test"] == 6
    assert out["top1"] == 1.0  # red against blue: ImageNet features tell them apart
    assert out["images_per_second"] > 0


def test_probe_refuses_other_trunks_and_missing_splits(tmp_path):
    with pytest.raises(ValueError, match="efficientnet_lite0"):
        probe_trunk(tmp_path, "studio_encoder")
    with pytest.raises(FileNotFoundError, match="train/"):
        probe_trunk(tmp_path, "efficientnet_lite0")


def test_eval_probe_command(tmp_path, capsys):
    _folders(tmp_path / "photos", n_train=4, n_val=2)
    assert main(["eval", "probe", "--data", str(tmp_path / "photos"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_test"] == 4 and 0 <= result["top1"] <= result["top3"] <= 1
    assert main(["eval", "probe", "--data", str(tmp_path / "photos"), "--trunk", "resnet"]) == 2
    assert "efficientnet_lite" in capsys.readouterr().err
    assert main(["eval", "probe", "--data", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err
