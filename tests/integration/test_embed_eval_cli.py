"""CLI: train (tiny), eval classify/search on class folders, manifest bookkeeping."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from core.models.studio import sha256_of


def _folders(root, classes=("pants", "shoes", "hat"), n=4):
    rng = np.random.default_rng(0)
    for split in ("train", "validation"):
        for ci, c in enumerate(classes):
            (root / split / c).mkdir(parents=True)
            for i in range(n):
                a = np.full((40, 32, 3), 220, np.uint8)
                a[8:32, 6:26] = (60 * ci, 200 - 60 * ci, rng.integers(0, 255))
                Image.fromarray(a).save(root / split / c / f"{i}.jpg")


def _run(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "core", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow  # trains a model: over 20 s
def test_train_then_eval_on_class_folders(tmp_path, settings, env_for):
    data = tmp_path / "photos"
    _folders(data)
    env = env_for()
    out = _run(["train", "classifier", "--data-real", str(data), "--epochs", "1",
                "--batch-size", "8", "--widths", "8,16,16,32", "--crop-size", "32", "--json"], env)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    weights = settings.weights_dir / "studio_classifier.pt"
    assert summary["file"] == str(weights) and weights.is_file()
    manifest = json.loads((settings.weights_dir / "manifest.json").read_text())
    entry = manifest["files"]["studio_classifier.pt"]
    assert entry["sha256"] == sha256_of(weights)
    assert "train classifier" in entry["command"] and entry["data"]["real"] == str(data)
    assert (settings.weights_dir / "studio_classifier_curves.png").is_file()

    weights.rename(settings.weights_dir / "studio_encoder.pt")
    out = _run(["eval", "classify", "--data", str(data), "--json"], env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["n"] == 12 and 0 <= result["top1"] <= result["top3"] <= 1
    assert result["gallery"] == 12 and result["knn_k"] == 10
    for name in ("knn", "fused"):
        assert 0 <= result[f"{name}_top1"] <= result[f"{name}_top3"] <= 1
    out = _run(["eval", "classify", "--data", str(data), "--views", "mirror", "--no-vote",
                "--json"], env)
    assert out.returncode == 0, out.stderr
    mirrored = json.loads(out.stdout)
    assert mirrored["views"] == "mirror" and "knn_top1" not in mirrored
    assert mirrored["n"] == 12 and 0 <= mirrored["top1"] <= mirrored["top3"] <= 1
    out = _run(["eval", "search", "--data", str(data), "--json"], env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["n"] == 12 and 0 <= result["p10_same_class"] <= 1

    demo, result = _demo_search_figures(tmp_path, env)
    _bounds_match_eval(demo, result, env)
    _exact_item_mode_after_tune(demo, result, settings, env, tmp_path)


def _demo_search_figures(tmp_path, env):
    """`eval search --demo` on a tiny built catalog: the model's figures within the label
    oracle's ceiling, and the look-alike oracles in order."""
    demo = tmp_path / "demo"
    out = _run(["demo", "build", "--items", "40", "--seed", "3", "--size", "64", "--workers", "1",
                "--out", str(demo), "--json"], env)
    assert out.returncode == 0, out.stderr
    out = _run(["eval", "search", "--demo", str(demo), "--json"], env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["model"] == "studio_encoder" and result["queries"] > 0
    oracle = result["baselines"]["label_oracle"]
    assert oracle["r1_item"] == 1.0 and "random_init" in result["baselines"]
    ceiling = result["ceiling"]["p10_category_plus_color"]
    assert 1.0 <= ceiling <= 2.0  # no ranking, not even the oracle's, sums higher
    for run in (result, oracle, result["baselines"]["random_init"]):
        assert run["p10_category"] + run["p10_color"] <= ceiling + 1e-9
    # oracles that know only an item's look-alike group: the coarser, the lower R@1
    detail, attrs = (result["baselines"][k] for k in ("detail_oracle", "attribute_oracle"))
    assert 0.0 < attrs["r1_item"] <= detail["r1_item"] <= 1.0
    assert "item_match" not in result  # an untuned checkpoint has no exact-item mode
    aware = result["category_aware"]  # restricted to the predicted category: no better than it
    assert aware["queries"] == result["queries"]
    assert aware["p10_category"] <= aware["classifier_top1"] <= 1.0
    return demo, result


def _bounds_match_eval(demo, result, env):
    """`eval bounds` gives the same ceiling and oracles from the labels alone, for the built
    catalog and for the same catalog drawn without rendering it."""
    ceiling = result["ceiling"]["p10_category_plus_color"]
    detail, attrs = (result["baselines"][k] for k in ("detail_oracle", "attribute_oracle"))
    out = _run(["eval", "bounds", "--demo", str(demo), "--json"], env)
    assert out.returncode == 0, out.stderr
    bounds = json.loads(out.stdout)["rows"][0]
    assert bounds["queries"] == result["queries"] and bounds["items"] == 40
    assert bounds["ceiling_p10_category_plus_color"] == ceiling
    assert bounds["detail_oracle_r1"] == detail["r1_item"]
    assert bounds["attribute_oracle_r1"] == attrs["r1_item"]
    assert bounds["p10_goals_reachable"] == (ceiling >= 1.85)
    out = _run(["eval", "bounds", "--items", "40", "--seed", "3", "--json"], env)
    assert out.returncode == 0, out.stderr
    drawn = json.loads(out.stdout)["rows"][0]
    assert drawn == {**bounds, "catalog": "seed 3"}


def _exact_item_mode_after_tune(demo, result, settings, env, tmp_path):
    """`train tune` on the demo catalog's val split adds the exact-item query weights; the
    evaluation then reports the same queries in that mode too."""
    tuned = tmp_path / "tuned.pt"
    out = _run(["train", "tune", "--init", str(settings.weights_dir / "studio_encoder.pt"),
                "--demo", str(demo), "--out", str(tuned), "--json"], env)
    assert out.returncode == 0, out.stderr
    chosen = json.loads(out.stdout)["item_weights_selection"]["chosen"]
    assert len(chosen) == 3 and abs(sum(chosen) - 1) < 1e-6 and chosen[2] >= 0.05
    tuned.replace(settings.weights_dir / "studio_encoder.pt")
    out = _run(["eval", "search", "--demo", str(demo), "--no-baselines", "--json"], env)
    assert out.returncode == 0, out.stderr
    item = json.loads(out.stdout)["item_match"]
    assert item["weights"] == chosen and item["queries"] == result["queries"]
    assert 0 <= item["r1_item"] <= 1 and 0 <= item["p10_category"] <= 1


@pytest.mark.slow
def test_eval_bad_inputs_exit_2(tmp_path, env_for):
    env = env_for()
    out = _run(["eval", "classify", "--data", str(tmp_path / "missing"), "--json"], env)
    assert out.returncode == 2 and "missing" in out.stderr
    out = _run(["eval", "classify", "--data", str(tmp_path), "--views", "mirror", "--record"],
               env)
    assert out.returncode == 2 and "--record" in out.stderr
    out = _run(["eval", "search", "--demo", str(tmp_path), "--json"], env)
    assert out.returncode == 2 and "items.jsonl" in out.stderr
    out = _run(["eval", "bounds", "--demo", str(tmp_path), "--json"], env)
    assert out.returncode == 2 and "items.jsonl" in out.stderr
    out = _run(["eval", "bounds", "--items", "0"], env)
    assert out.returncode == 2 and "at least 1" in out.stderr
    out = _run(["train", "encoder", "--epochs", "1"], env)
    assert out.returncode == 2 and "--data-real" in out.stderr
