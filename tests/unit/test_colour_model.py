"""The pixel colour classifier (features, fitting, saving) and the two-expert colour reading."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.tagging.colour import read_colour
from core.tagging.colour_model import (
    PIXEL_MODEL_FILE,
    PixelColourModel,
    combine,
    fit_pixel_model,
    load_pixel_model,
    photo_colour,
    pixel_features,
)
from core.taxonomy import COLORS

TRAIN_COLOURS = ("red", "navy", "yellow", "green")


def garment(colour: str, seed: int, size: tuple[int, int] = (48, 64)) -> Image.Image:
    """A garment-shaped patch of ``colour`` (with shading noise) on a light backdrop."""
    rng = np.random.default_rng(seed)
    w, h = size
    arr = np.full((h, w, 3), 225, np.float64) + rng.normal(0, 4, (h, w, 3))
    shade = rng.uniform(0.8, 1.1)
    arr[h // 6: h - h // 8, w // 5: w - w // 5] = np.array(COLORS[colour].rgb) * shade
    arr += rng.normal(0, 3, arr.shape)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def fitted() -> PixelColourModel:
    feats = [pixel_features(garment(c, s)) for c in TRAIN_COLOURS for s in range(5)]
    labels = [c for c in TRAIN_COLOURS for _ in range(5)]
    model, cv = fit_pixel_model(np.stack(feats), labels, folds=3)
    assert 0.75 <= cv <= 1.0
    return model


def test_features_have_a_fixed_length_and_are_finite():
    a = pixel_features(garment("red", 0))
    b = pixel_features(garment("navy", 1, size=(70, 40)))
    assert a.shape == b.shape and a.ndim == 1 and np.isfinite(a).all()
    mask = Image.fromarray(np.pad(np.full((40, 24), 255, np.uint8), ((12, 12), (12, 12))))
    assert pixel_features(garment("red", 0), mask).shape == a.shape


def test_a_fitted_classifier_names_unseen_photos(fitted):
    for colour in TRAIN_COLOURS:
        dist = fitted.distribution(garment(colour, 99))
        assert max(dist, key=dist.get) == colour
        assert abs(sum(dist.values()) - 1.0) < 1e-9


def test_saved_and_loaded_it_reads_the_same(fitted, tmp_path):
    fitted.save(tmp_path / PIXEL_MODEL_FILE)
    loaded = load_pixel_model(tmp_path)
    feats = pixel_features(garment("green", 7))
    assert np.allclose(loaded.probs(feats), fitted.probs(feats))
    assert loaded.model_id == fitted.model_id and loaded.model_id.startswith("colour_pixels:")
    assert load_pixel_model(tmp_path / "none") is None


def test_a_file_for_other_features_is_ignored_with_a_warning(fitted, tmp_path, caplog):
    doc = fitted.to_json() | {"features": "something-else"}
    (tmp_path / PIXEL_MODEL_FILE).write_text(json.dumps(doc))
    assert load_pixel_model(tmp_path) is None
    assert "retrain it" in caplog.text


def test_combine_is_a_product_of_experts():
    head = {"navy": 0.5, "black": 0.4, "grey": 0.1}
    pixels = {"black": 0.7, "navy": 0.1, "grey": 0.2}
    name, p = combine(head, pixels)
    assert name == "black" and 0.5 < p < 1.0
    assert combine(head, None) == ("navy", pytest.approx(0.5))
    assert combine(None, pixels)[0] == "black"
    assert combine(None, None) is None


def test_photo_colour_uses_the_experts_it_is_given(fitted):
    img = garment("red", 3)
    assert photo_colour(img) == read_colour(img)
    head_only = photo_colour(img, {"burgundy": 0.6, "red": 0.4})
    assert (head_only.name, head_only.method) == ("burgundy", "encoder")
    assert head_only.share == 0.0 and head_only.second != "burgundy"
    both = photo_colour(img, {"burgundy": 0.55, "red": 0.45}, pixel_model=fitted)
    assert both.name == "red" and both.method == "encoder+pixels"
    assert both.share == read_colour(img).share
    assert photo_colour(img, pixel_model=fitted).method == "pixels"
    assert read_colour(img).dist is None  # the rule-based reader gives no distribution
    assert both.dist["red"] == pytest.approx(both.confidence, abs=1e-3)
    assert sum(both.dist.values()) == pytest.approx(1.0, abs=0.01)
    assert both.probability("red") > both.probability("burgundy")


def test_tagging_names_both_colour_experts():
    from types import SimpleNamespace

    from core.tagging.catalog import COLOUR_MODEL, tagger_models

    enc = SimpleNamespace(can_classify=True, reads_photo_colour=True, source="enc:1",
                          model_id="enc", model=None)
    pixels = SimpleNamespace(model_id="colour_pixels:abc")
    assert tagger_models(enc, pixels)["color"] == "enc:1+colour_pixels:abc"
    assert tagger_models(None, pixels)["color"] == "colour_pixels:abc"
    assert tagger_models(None)["color"] == COLOUR_MODEL


@pytest.fixture
def labelled(tmp_path):
    labels = {}
    for colour in TRAIN_COLOURS:
        for s in range(4):
            rel = f"dress/{colour}_{s}.png"
            (tmp_path / "train" / "dress").mkdir(parents=True, exist_ok=True)
            garment(colour, s).save(tmp_path / "train" / rel)
            labels[rel] = {"color": colour, "second": None, "pattern": "solid", "worn": False}
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"palette": list(COLORS), "labels": labels}))
    return tmp_path, path


def test_train_colour_cli_writes_the_classifier(labelled, capsys):
    data, labels = labelled
    out = data / "model.json"
    assert main(["train", "colour", "--data", str(data), "--labels", str(labels),
                 "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["photos"] == 16 and report["split"] == "train" and out.is_file()
    assert report["cv_accuracy"] >= 0.75
    assert PixelColourModel.from_json(json.loads(out.read_text())).names == sorted(TRAIN_COLOURS)


def test_train_colour_cli_refuses_bad_arguments(labelled, capsys):
    data, labels = labelled
    assert main(["train", "colour", "--data", str(data / "nope"), "--labels", str(labels)]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["train", "colour", "--data", str(data), "--labels", str(labels),
                 "--c", "0"]) == 2
    assert "--c must be positive" in capsys.readouterr().err
