"""The real-caption evaluation on a tiny caption file: references of another colour, the
family gallery, top-10 fractions for the model with rules, the model alone and the reference."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from core.feedback.data import FeedbackData, item_info
from core.feedback.model import Combiner, CombinerConfig
from core.feedback.real import is_held_out, pick_reference, read_real_captions, real_caption_eval
from tests.unit.test_feedback_train import HashTower, synthetic_items, synthetic_vectors

CAPTIONS = ["is red with short sleeves", "should be pink, not striped", "in cream please",
            "has long sleeves and no pattern", "a darker colour", "make it floral"]


def _ids(held: bool, n: int) -> list[tuple[str, str]]:
    out, i = [], 0
    while len(out) < n:
        pair = (f"C{i}", f"T{i}")
        if is_held_out(*pair) == held:
            out.append(pair)
        i += 1
    return out


@pytest.fixture
def folder(tmp_path):
    entries = [{"candidate": c, "target": t, "captions": [CAPTIONS[i % len(CAPTIONS)]]}
               for held in (True, False) for i, (c, t) in enumerate(_ids(held, 12))]
    (tmp_path / "cap.dress.train.json").write_text(json.dumps(entries))
    return tmp_path


@pytest.fixture
def data():
    items = synthetic_items(240)
    return FeedbackData([it.sku for it in items], synthetic_vectors(items, 32),
                        [item_info(it) for it in items])


def test_parts_split_the_captions(folder):
    held, dev = read_real_captions(folder, "heldout"), read_real_captions(folder, "development")
    assert len(held) == len(dev) == 12
    assert read_real_captions(folder, "train") == dev


def test_the_reference_has_another_colour(data):
    rng = random.Random(0)
    pool = data.rows()
    for _ in range(20):
        r = pick_reference(data, pool, {"color": frozenset({"red"}),
                                        "sleeve": frozenset({"short"})}, rng)
        assert data.attr(r, "color") != "red" and data.attr(r, "sleeve") != "short"
    only_red = np.array([r for r in pool if data.attr(r, "color") == "red"])
    assert data.attr(pick_reference(data, only_red, {"color": frozenset({"red"})}, rng),
                     "color") == "red"  # nothing else to draw from: falls back


def test_rules_make_the_request_dominate(folder, data):
    torch.manual_seed(0)
    model = Combiner(CombinerConfig(img_dim=32, txt_dim=32, hidden=16)).eval()
    out = real_caption_eval(data, HashTower().encode, model, folder, seed=0)
    assert out["part"] == "heldout" and out["n_captions"] == 12
    assert set(out["methods"]) == {"model_rules", "model", "reference_only"}
    for attr in ("color", "pattern", "sleeve"):
        e = out[attr]
        assert e["n"] > 0
        assert e["model_rules"] == e["ceiling"] == 1.0  # each value has > 10 items to offer
        assert e["model"] <= e["model_rules"] and e["reference_only"] <= e["model_rules"]
    assert out["color_shade"]["n"] >= 1 and out["color_shade"]["model_rules"] == 1.0
    assert out["avoided"]["n"] == 2 and out["avoided"]["model_rules"] == 1.0
    same = out["same_category"]  # no caption names a category: all count
    assert same["n"] == out["n_asked"] and 0 <= same["model_rules"] <= 1
    kept = out["kept_colour"]  # captions that say nothing of colour keep the reference's?
    assert 0 < kept["n"] < out["n_asked"] and 0 <= kept["reference_only"] <= 1
    weak = real_caption_eval(data, HashTower().encode, model, folder, seed=0, weight=0.0)
    assert weak["color"]["model_rules"] == weak["color"]["model"]  # weight 0: the model alone
    dev = real_caption_eval(data, HashTower().encode, model, folder, part="development")
    assert dev["part"] == "development" and dev["color"]["n"] > 0


def test_captions_that_only_negate_are_measured_both_ways(tmp_path, data):
    negations = ["is not red", "has no stripes", "is less blue"]
    entries = [{"candidate": c, "target": t, "captions": [negations[i % 3]]}
               for i, (c, t) in enumerate(_ids(True, 6))]
    (tmp_path / "cap.dress.train.json").write_text(json.dumps(entries))
    torch.manual_seed(0)
    model = Combiner(CombinerConfig(img_dim=32, txt_dim=32, hidden=16)).eval()
    out = real_caption_eval(data, HashTower().encode, model, tmp_path, seed=0)
    assert out["n_asked"] == 0 and out["avoided_only"]["n"] == out["avoided_kept"]["n"] == 6
    assert out["avoided_only"]["model_rules"] == 1.0  # a reference with red: none in the top 10
    kept = out["avoided_kept"]  # a reference without it: its own colour (pattern) stays
    assert set(kept) >= {"model_rules", "model", "reference_only", "model_query_rules"}
    # the reference is the query and nothing of its colour is penalised: at least as much
    # of it as the reference alone gives
    assert kept["model_rules"] >= kept["reference_only"] > kept["model"]


def test_length_and_fit_requests_are_measured_on_references_they_resolve_against(tmp_path):
    rng = random.Random(1)
    items = synthetic_items(240)
    for it in items:  # dresses of every length and fit
        it.category = "dress"
        it.attrs.update(length=rng.choice(["mini", "knee", "midi", "maxi"]),
                        fit=rng.choice(["slim", "regular", "loose"]))
    data = FeedbackData([it.sku for it in items], synthetic_vectors(items, 32),
                        [item_info(it) for it in items])
    asks = ["is shorter", "is longer and red", "more fitted", "knee length", "is looser"]
    entries = [{"candidate": c, "target": t, "captions": [asks[i % len(asks)]]}
               for i, (c, t) in enumerate(_ids(True, 10))]
    (tmp_path / "cap.dress.train.json").write_text(json.dumps(entries))
    torch.manual_seed(0)
    model = Combiner(CombinerConfig(img_dim=32, txt_dim=32, hidden=16)).eval()
    out = real_caption_eval(data, HashTower().encode, model, tmp_path, seed=0)
    assert out["length_relative"]["n"] == 4 and out["length"]["n"] == 2
    assert out["fit_relative"]["n"] == 4 and out["fit"]["n"] == 0
    assert out["ordered_same_category"]["model_rules"] == 1.0  # every item is a dress
    for key in ("length", "length_relative", "fit_relative"):
        e = out[key]
        assert e["model_rules"] == e["ceiling"] == 1.0  # every length has > 10 dresses
        assert e["model"] < e["model_rules"] and e["reference_only"] < e["model_rules"]
