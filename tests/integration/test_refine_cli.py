"""`train feedback`, `eval feedback` and `refine` through the real CLI and embedded MongoDB."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from core.models.studio import new_encoder, save_checkpoint
from tests.unit.test_feedback_train import synthetic_items, synthetic_vectors

DIM = 128


def _cli(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "core", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def catalog(repo, settings):
    """240 attribute-labelled items (dress/top, colours, patterns, sleeves) with vectors."""
    items = synthetic_items(240)
    repo.upsert_items(items)
    repo.put_vectors("studio_encoder", [it.sku for it in items], synthetic_vectors(items, DIM))
    return items


def _real_captions(folder):
    folder.mkdir()
    entries = [{"candidate": f"C{i}", "target": f"T{i}",
                "captions": [f"is {c}", f"is {c} with longer sleeves"]}
               for i, c in enumerate(["red", "blue", "black", "pink", "green"] * 6)]
    (folder / "cap.dress.train.json").write_text(json.dumps(entries))
    return folder


@pytest.mark.slow
def test_train_eval_refine_roundtrip(catalog, settings, env_for, tmp_path):
    env = env_for()
    real = _real_captions(tmp_path / "real")
    run = _cli(env, "train", "feedback", "--epochs", "4", "--captions", "2", "--per-reference",
               "3", "--real-captions", str(real), "--json")
    assert run.returncode == 0, run.stderr
    trained = json.loads(run.stdout)
    weights = settings.weights_dir / "feedback_combiner.pt"
    assert trained["weights"] == str(weights) and weights.is_file()
    assert trained["history"][0]["epoch"] == 1
    assert trained["metrics"]["real_captions"]["color"]["n"] > 0
    manifest = json.loads((settings.weights_dir / "manifest.json").read_text())
    entry = manifest["files"]["feedback_combiner.pt"]
    assert entry["sha256"] == trained["sha256"]
    assert entry["command"].startswith("python -m core train feedback")
    assert entry["data"]["items"] == 240 and "r10" in entry["metrics"]

    run = _cli(env, "eval", "feedback", "--json", "--real-captions", str(tmp_path / "absent"))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    for key in ("r10", "r50", "mean", "attr_hit_at_10", "per_family", "baselines"):
        assert key in report
    assert set(report["baselines"]) == {"image_only", "text_only", "sum"}
    assert set(report["per_family"]) <= {"full", "top"}
    assert "real_captions" not in report  # absent folder: skipped cleanly
    assert report["r10"] == pytest.approx(trained["metrics"]["r10"])  # same held-out pairs

    ref = next(it for it in catalog if it.attrs["color"] != "red")
    run = _cli(env, "refine", "--item", ref.sku, "--text", "in red", "--k", "5", "--json")
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert len(results) == 5
    for r in results:
        assert set(r) == {"id", "score", "category", "attrs", "image"}
        assert r["id"] != ref.sku
    assert results[0]["score"] >= results[-1]["score"]


@pytest.mark.slow
def test_refine_from_a_photo(catalog, settings, env_for, tmp_path):
    from core.feedback.model import Combiner, CombinerConfig, save_combiner

    save_combiner(settings.weights_dir / "feedback_combiner.pt",
                  Combiner(CombinerConfig(img_dim=DIM, txt_dim=384, hidden=16)))
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    settings.weights_dir / "studio_encoder.pt")
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 80), (200, 30, 40)).save(photo)
    run = _cli(env_for(), "refine", str(photo), "--text", "with long sleeves", "--k", "3",
               "--json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)) == 3
    assert "photo read as: " in run.stderr  # what the reference was read as


@pytest.mark.slow
def test_refine_input_errors(catalog, env_for, tmp_path):
    env = env_for()
    run = _cli(env, "refine", "--text", "red")
    assert run.returncode == 2 and "either a reference IMAGE or --item" in run.stderr
    run = _cli(env, "refine", str(tmp_path / "nope.jpg"), "--text", "red")
    assert run.returncode == 2 and "nope.jpg" in run.stderr
    run = _cli(env, "refine", "--item", "S0001", "--text", "red")
    assert run.returncode == 1 and "train feedback" in run.stderr  # no weights yet
    run = _cli(env, "eval", "feedback", "--fashioniq", str(tmp_path))
    assert run.returncode == 2 and "--images" in run.stderr


def test_eval_refine_photos_reports_each_request_for_both_readings(catalog, settings, env_for,
                                                                   tmp_path):
    from core.feedback.model import Combiner, CombinerConfig, save_combiner

    save_combiner(settings.weights_dir / "feedback_combiner.pt",
                  Combiner(CombinerConfig(img_dim=DIM, txt_dim=384, hidden=16)))
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    settings.weights_dir / "studio_encoder.pt")
    labels = {}
    for cls, rgb, colour in (("t-shirt", (200, 30, 40), "red"),
                             ("longsleeve", (30, 40, 160), "blue")):
        (tmp_path / "photos" / "validation" / cls).mkdir(parents=True)
        Image.new("RGB", (48, 64), rgb).save(tmp_path / "photos" / "validation" / cls / "a.jpg")
        labels[f"{cls}/a.jpg"] = {"color": colour, "pattern": "solid"}
    (tmp_path / "labels.json").write_text(json.dumps({"labels": labels}))
    run = _cli(env_for(), "eval", "refine-photos", "--data", str(tmp_path / "photos"),
               "--labels", str(tmp_path / "labels.json"), "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["photos"] == 2 and set(out["rows"]) == {"darker", "lighter", "other_colour",
                                                       "sleeves"}
    for by in out["rows"].values():
        assert by["product"]["photos"] == by["baseline"]["photos"] >= 1
        assert all(0 <= v <= 1 for r in by.values() for m, v in r.items() if m != "photos")
    assert "same_class" in out["rows"]["other_colour"]["product"]
    run = _cli(env_for(), "eval", "refine-photos", "--data", str(tmp_path / "nope"),
               "--labels", str(tmp_path / "labels.json"))
    assert run.returncode == 2 and "no such folder" in run.stderr


def test_refine_from_a_photo_with_its_colour_given(catalog, settings, env_for, tmp_path):
    from core.feedback.model import Combiner, CombinerConfig, save_combiner

    save_combiner(settings.weights_dir / "feedback_combiner.pt",
                  Combiner(CombinerConfig(img_dim=DIM, txt_dim=384, hidden=16)))
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    settings.weights_dir / "studio_encoder.pt")
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 80), (200, 30, 40)).save(photo)
    run = _cli(env_for(), "refine", str(photo), "--text", "darker", "--colour", "beige",
               "--k", "3")
    assert run.returncode == 0, run.stderr
    assert "darker than beige" in run.stdout and "beige" in run.stdout.splitlines()[0]
    run = _cli(env_for(), "refine", str(photo), "--text", "darker", "--colour", "plaid")
    assert run.returncode == 2 and "not a palette colour" in run.stderr
    run = _cli(env_for(), "refine", "--item", "S0001", "--text", "darker", "--colour", "red")
    assert run.returncode == 2 and "for a reference photo only" in run.stderr
