"""`train compat`, `eval compat` and `outfit score | complete | fitb` through the real CLI, on a
rendered demo catalog ingested into the embedded MongoDB."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from core.taxonomy import family_of
from tests.helpers import attribute_vectors

DIM = 32


def _cli(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "core", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def outfit_catalog(repo, env_for, tmp_path):
    """A 300-item demo catalog with 900 outfits, ingested, with attribute vectors."""
    env = env_for()
    demo = tmp_path / "demo"
    run = _cli(env, "demo", "build", "--items", "300", "--seed", "5", "--size", "48",
               "--workers", "1", "--outfits", "900", "--out", str(demo))
    assert run.returncode == 0, run.stderr
    run = _cli(env, "ingest", str(demo))
    assert run.returncode == 0, run.stderr
    items = list(repo.iter_items())
    repo.put_vectors("studio_encoder", [it.sku for it in items], attribute_vectors(items, DIM))
    return env, {it.sku: it for it in items}


def _look(repo, items, compatible: bool) -> list[str]:
    doc = next(d for d in repo.find_docs("outfits", {"split": "test"})
               if d["compatible"] is compatible and len(d["items"]) >= 3
               and all(s in items for s in d["items"]))
    return doc["items"]


@pytest.mark.slow
def test_train_eval_and_style_an_outfit(outfit_catalog, repo, settings):
    env, items = outfit_catalog
    run = _cli(env, "train", "compat", "--epochs", "20", "--json")
    assert run.returncode == 0, run.stderr
    trained = json.loads(run.stdout)
    weights = settings.weights_dir / "compat.pt"
    assert trained["weights"] == str(weights) and weights.is_file()
    m = trained["metrics"]
    assert m["auc"] > 0.75 and m["auc"] > m["baselines"]["similarity"]["auc"]
    assert m["fitb"] > m["baselines"]["random"]["fitb"] and m["questions"] > 10
    assert set(m["baselines"]) == {"random", "similarity", "colour", "mlp"}
    entry = json.loads((settings.weights_dir / "manifest.json").read_text())["files"]["compat.pt"]
    assert entry["sha256"] == trained["sha256"] and entry["data"]["items"] == 300
    assert entry["command"].startswith("python -m core train compat")
    assert (settings.data_dir / "cache" / "outfits" / "histograms.npz").is_file()

    run = _cli(env, "eval", "compat", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["auc"] == pytest.approx(m["auc"]) and report["fitb"] == pytest.approx(m["fitb"])

    good = _look(repo, items, True)
    run = _cli(env, "outfit", "score", "--items", *good, "--json")
    assert run.returncode == 0, run.stderr
    scored = json.loads(run.stdout)
    assert 0 <= scored["score"] <= 1 and len(scored["pairs"]) == len(good)
    weakest = min(p for row in scored["pairs"] for p in row if p is not None)
    assert scored["verdict"] and scored["weakest"]["p"] == pytest.approx(weakest, abs=1e-4)

    top = next(s for s, it in items.items()
               if family_of(it.category) == "top" and it.gender in ("women", "men"))
    run = _cli(env, "outfit", "complete", "--items", top, "--k", "3", "--json")
    assert run.returncode == 0, run.stderr
    slots = json.loads(run.stdout)
    assert list(slots)[:2] == ["bottom", "shoes"]  # the missing pieces come first
    for slot, suggestions in slots.items():
        assert 0 < len(suggestions) <= 3
        assert {family_of(s["category"]) for s in suggestions} == {slot}
        scores = [s["score"] for s in suggestions]
        assert scores == sorted(scores, reverse=True)
        assert all(s["sku"] != top for s in suggestions)
    whom = items[top].gender
    for suggestions in slots.values():  # auto: for whom the look is, or unisex
        assert {s["gender"] for s in suggestions} <= {whom, "unisex"}
    run = _cli(env, "outfit", "complete", "--items", top, "--k", "40", "--for", "any", "--json")
    assert run.returncode == 0, run.stderr
    genders = {s["gender"] for slot in json.loads(run.stdout).values() for s in slot}
    assert genders - {whom, "unisex"}  # for anyone: other genders' items come back too
    shoes = [s["sku"] for s in slots["shoes"]]
    run = _cli(env, "outfit", "fitb", "--items", top, "--candidates", *shoes, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["best"] == shoes[0]  # same ranking as complete


@pytest.mark.slow
def test_bad_input_exits_2_with_a_reason(outfit_catalog, env_for, tmp_path):
    env, items = outfit_catalog
    sku = next(iter(items))
    run = _cli(env, "outfit", "score", "--items", sku)
    assert run.returncode == 2 and "train compat" in run.stderr  # no weights yet
    run = _cli(env, "eval", "compat", "--weights", str(tmp_path / "none.pt"))
    assert run.returncode == 2 and "train compat" in run.stderr
    assert _cli(env, "train", "compat", "--epochs", "1").returncode == 0
    cases = [
        (("outfit", "score"), "at least 1 piece"),
        (("outfit", "score", "--items", "NOPE"), "no item 'NOPE'"),
        (("outfit", "score", "--photos", str(tmp_path / "absent.jpg")), "no such file"),
        (("outfit", "complete", "--items", sku, "--slot", "socks"), "not a garment family"),
        (("outfit", "complete", "--items", sku, "--k", "0"), "--k must be in [1, 50]"),
        (("outfit", "fitb", "--items", sku, "--candidates", "NOPE"), "no item 'NOPE'"),
        (("train", "compat", "--epochs", "0"), "--epochs must be at least 1"),
        (("train", "compat", "--facts-dropout", "1"), "--facts-dropout 1.0"),
        (("outfit", "score", "--items", sku, "--photo-for", "robots"), "invalid choice"),
        (("outfit", "score", "--items", sku, "--photo-season", "monsoon"), "invalid choice"),
        (("demo", "build", "--outfits", "2", "--out", str(tmp_path / "d")), "--outfits"),
    ]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is not a picture")
    cases.append((("outfit", "score", "--photos", str(bad)), "bad.jpg"))
    for args, reason in cases:
        run = _cli(env, *args)
        assert run.returncode == 2, (args, run.stderr)
        assert reason in run.stderr, (args, run.stderr)


@pytest.mark.slow
def test_no_outfits_or_no_vectors_says_what_to_do(repo, env_for, small_catalog):
    env = env_for()
    items = small_catalog(6)
    run = _cli(env, "train", "compat", "--epochs", "1")
    assert run.returncode == 2 and "embed" in run.stderr
    repo.put_vectors("studio_encoder", [it.sku for it in items],
                     np.eye(6, DIM, dtype=np.float32))
    run = _cli(env, "train", "compat", "--epochs", "1")
    assert run.returncode == 2 and "no outfits" in run.stderr


def _photo_folder(root, classes: dict[str, int]):
    """validation/<class>/ folders of small coloured garment-ish photos on white."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    for cls, n in classes.items():
        folder = root / "validation" / cls
        folder.mkdir(parents=True)
        for i in range(n):
            img = Image.new("RGB", (64, 64), (250, 250, 250))
            colour = tuple(int(c) for c in rng.integers(0, 200, size=3))
            ImageDraw.Draw(img).rectangle([12, 8 + i % 5, 52, 56], fill=colour)
            img.save(folder / f"{cls}_{i}.jpg", quality=90)
    return root


@pytest.mark.slow
def test_structure_faults_on_real_photo_folders(settings, env_for, tmp_path):
    """`eval compat --data`: looks of real-photo classes, well-formed vs structure faults."""
    from core.models.studio import new_encoder, save_checkpoint
    from core.outfits.model import CompatConfig, CompatNet, save_compat

    env = env_for()
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1), embed_dim=DIM),
                    settings.weights_dir / "studio_encoder.pt")
    save_compat(settings.weights_dir / "compat.pt", CompatNet(CompatConfig(img_dim=DIM)).eval())
    data = _photo_folder(tmp_path / "photos", {"t-shirt": 3, "pants": 3, "shorts": 2,
                                                "dress": 2, "shoes": 3, "hat": 1})
    run = _cli(env, "eval", "compat", "--data", str(data), "--looks", "12", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["looks"] == 24 and report["photos"] <= 13  # hats are in no look
    assert set(report["by_fault"]) == {"two bottoms", "two tops", "one-piece with separates",
                                       "two pairs of shoes"}
    assert sum(f["n"] for f in report["by_fault"].values()) == 12
    assert 0 <= report["auc"] <= 1 and set(report["baselines"]) == {"similarity", "random"}

    tops_only = _photo_folder(tmp_path / "tops", {"t-shirt": 3})
    for args, reason in (((str(tops_only),), "tops, bottoms and shoes"),
                         ((str(tmp_path / "absent"),), "is not a folder"),
                         ((str(data), "--looks", "0"), "--looks must be at least 1")):
        run = _cli(env, "eval", "compat", "--data", *args)
        assert run.returncode == 2 and reason in run.stderr, run.stderr
