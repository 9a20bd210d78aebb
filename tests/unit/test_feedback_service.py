"""Refiner.compose: empty and nonsense feedback fall back to similarity with a message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import load_settings
from core.feedback.model import Combiner, CombinerConfig, save_combiner
from core.feedback.service import NO_TEXT, NOT_UNDERSTOOD, Refiner
from tests.unit.test_feedback_train import HashTower


class Tower384(HashTower):
    name, dim = "hash384", 384


@pytest.fixture
def refiner(tmp_path):
    cfg = load_settings(env_file=tmp_path / "none.env", DATA_DIR=str(tmp_path / "data"),
                        WEIGHTS_DIR=str(tmp_path / "weights"), DEVICE="cpu")
    torch.manual_seed(0)
    save_combiner(cfg.weights_dir / "feedback_combiner.pt",
                  Combiner(CombinerConfig(img_dim=8, txt_dim=384, hidden=16)))
    return Refiner(cfg, tower=Tower384(), indexes=object())


def test_understood_feedback_moves_the_query(refiner):
    ref = np.eye(8, dtype=np.float32)[0]
    c = refiner.compose(ref, "in red with long sleeves")
    assert c.understood and c.message is None and c.family is None
    assert c.reading == "color: red; sleeve: long"
    assert c.query.shape == (8,) and np.isclose(np.linalg.norm(c.query), 1, atol=1e-5)
    assert not np.allclose(c.query, ref)


def test_a_named_category_sets_the_family(refiner):
    c = refiner.compose(np.eye(8, dtype=np.float32)[0], "make it a dress in navy")
    assert c.family == "full"
    assert refiner.compose(np.eye(8, dtype=np.float32)[0], "not a dress, red").family is None


@pytest.mark.parametrize("text, message", [("", NO_TEXT), ("   ", NO_TEXT),
                                           ("xqzt blorf", NOT_UNDERSTOOD)])
def test_empty_or_nonsense_keeps_the_reference(refiner, text, message):
    ref = np.eye(8, dtype=np.float32)[1]
    c = refiner.compose(ref, text)
    assert not c.understood and c.message == message and c.reading == ""
    assert np.array_equal(c.query, ref)


def test_text_tower_of_the_wrong_size_is_refused(tmp_path):
    cfg = load_settings(env_file=tmp_path / "none.env", WEIGHTS_DIR=str(tmp_path), DEVICE="cpu")
    save_combiner(tmp_path / "feedback_combiner.pt",
                  Combiner(CombinerConfig(img_dim=8, txt_dim=384, hidden=16)))
    with pytest.raises(ValueError, match="expects 384"):
        Refiner(cfg, tower=HashTower(), indexes=object())


def test_stale_image_weights_are_flagged(tmp_path):
    import json

    cfg = load_settings(env_file=tmp_path / "none.env", WEIGHTS_DIR=str(tmp_path), DEVICE="cpu")
    meta = {"data": {"image_weights_sha256": "a" * 64}}
    save_combiner(tmp_path / "feedback_combiner.pt",
                  Combiner(CombinerConfig(img_dim=8, txt_dim=384, hidden=16)), meta=meta)
    assert Refiner(cfg, tower=Tower384(), indexes=object()).warning is None  # no manifest
    manifest = {"files": {"studio_encoder.pt": {"sha256": "b" * 64}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    warning = Refiner(cfg, tower=Tower384(), indexes=object()).warning
    assert "retrain it with `python -m core train feedback`" in warning
    manifest["files"]["studio_encoder.pt"]["sha256"] = "a" * 64
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert Refiner(cfg, tower=Tower384(), indexes=object()).warning is None
