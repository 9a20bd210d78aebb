"""Refiner.compose: empty and nonsense feedback fall back to similarity with a message;
requests that don't apply to the garment and requests that only negate keep the reference as
the query."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import load_settings
from core.feedback.model import Combiner, CombinerConfig, save_combiner
from core.feedback.service import NO_TEXT, NOT_UNDERSTOOD, Reference, Refiner
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
    assert c.reading == "colour → red; sleeves → long"
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


def test_obey_puts_the_request_first_and_says_when_nothing_meets_it():
    from core.feedback.parse import parse_feedback
    from core.feedback.rules import resolve
    from core.feedback.service import obey
    from core.search.pipeline import SearchResult
    from core.storage.records import Item

    def result(i: int, color: str, pattern: str, score: float) -> SearchResult:
        item = Item(sku=f"S{i}", image_path="x.jpg", hash=f"h{i}", category="tee",
                    attrs={"color": color, "pattern": pattern, "sleeve": "short"})
        return SearchResult(item, score)

    found = [result(0, "blue", "solid", 0.9), result(1, "red", "striped", 0.8),
             result(2, "green", "striped", 0.7), result(3, "red", "solid", 0.1)]
    rules = resolve(parse_feedback("in red, no stripes"), {"color": "blue"})
    results, notes = obey(found, rules, 3)
    assert [r.item.sku for r in results] == ["S3", "S0", "S1"] and notes == []
    assert [r.score for r in results] == [0.1, 0.9, 0.8]  # the combiner's scores are kept
    results, notes = obey(found, resolve(parse_feedback("in purple"), {}), 2, "top")
    assert [r.item.sku for r in results] == ["S0", "S1"]  # nothing purple: closest first
    assert notes == ["No top item in the catalog has colour purple: showing the closest items."]


class ReadingEncoder:
    """An encoder stub: a fixed vector, top categories and head readings for any photo."""

    reads_photo_colour = False

    def __init__(self, guess, heads):
        self.guess, self.heads = guess, heads

    def embed_and_read(self, image, *, k=3):
        return np.eye(8, dtype=np.float32)[:1], self.guess, self.heads

    def embed_images(self, images):
        return np.eye(8, dtype=np.float32)[:len(images)]


def test_a_photo_reference_carries_what_it_reads_as(tmp_path):
    from PIL import Image, ImageDraw

    from core.feedback.parse import parse_feedback
    from core.feedback.rules import resolve

    cfg = load_settings(env_file=tmp_path / "none.env", WEIGHTS_DIR=str(tmp_path / "w"),
                        DEVICE="cpu")
    save_combiner(cfg.weights_dir / "feedback_combiner.pt",
                  Combiner(CombinerConfig(img_dim=8, txt_dim=384, hidden=16)))
    stub = ReadingEncoder([("dress", 0.8), ("romper", 0.1), ("tee", 0.05)],
                          {"sleeve": ("short", 0.9), "pattern": ("solid", 0.6)})
    refiner = Refiner(cfg, tower=Tower384(), indexes=object(), embedder=stub)
    img = Image.new("RGB", (96, 128), (245, 245, 245))
    ImageDraw.Draw(img).rectangle([20, 20, 76, 110], fill=(200, 32, 42))
    ref = refiner.photo_reference(img)
    assert ref.category == "dress" and ref.family == "full"
    assert ref.attrs == {"color": "red", "sleeve": "short"}  # the pattern read too unsurely
    assert ref.reading.caption() == "dress · red · short sleeves"
    rules = resolve(parse_feedback("darker, longer sleeves"), ref.attrs, category=ref.category)
    assert rules.want["color"] == frozenset({"burgundy"})
    assert rules.want["sleeve"] == frozenset({"three-quarter", "long"})
    assert rules.prefer == {"category": frozenset({"dress"})}
    assert np.array_equal(refiner.image_vector(img), np.eye(8, dtype=np.float32)[0])


def _bag(vector) -> Reference:
    return Reference(np.asarray(vector, dtype=np.float32), "bag", "B0",
                     {"color": "mint", "pattern": "striped", "sleeve": "n/a"}, "bag")


def test_a_request_that_does_not_apply_leaves_the_reference_as_the_query(refiner):
    ref = 2 * np.eye(8, dtype=np.float32)[3]
    c = refiner.compose(_bag(ref), "longer sleeves")
    assert c.understood and c.message is None and not c.rules
    assert c.reading == "sleeves: doesn't apply to bags"
    assert np.allclose(c.query, ref / 2)  # the reference itself, unit length
    c = refiner.compose(_bag(ref), "in red with long sleeves")
    assert c.reading == "colour → red; sleeves: doesn't apply to bags"
    assert not np.allclose(c.query, ref / 2)  # the model reads "in red with"


def test_only_negating_keeps_the_reference_as_the_query(refiner):
    ref = np.eye(8, dtype=np.float32)[3]
    c = refiner.compose(_bag(ref), "is not red")
    assert c.reading == "not: red or shades of it (burgundy); keeping: mint"
    assert np.allclose(c.query, ref)
    more = refiner.compose(_bag(ref), "is not red, more casual")  # "casual" is the model's
    assert not np.allclose(more.query, ref) and not more.rules.avoid_near


def test_the_catalog_query_leaves_out_avoided_colours_and_their_shades(refiner):
    class Repo:
        def skus_matching(self, filters):
            self.filters = filters
            return []

    repo = Repo()
    rules = refiner.compose(_bag(np.eye(8, dtype=np.float32)[3]), "is not red").rules
    refiner.matching_skus(repo, rules, "bag")
    assert "red" not in repo.filters["color"] and "burgundy" not in repo.filters["color"]
    assert {"mint", "orange", "pink"} <= set(repo.filters["color"])


def test_obey_puts_red_and_its_shades_last_for_not_red():
    from core.feedback.parse import parse_feedback
    from core.feedback.rules import resolve
    from core.feedback.service import obey
    from core.search.pipeline import SearchResult
    from core.storage.records import Item

    bags = [("red", "checked", 0.9), ("burgundy", "solid", 0.85), ("orange", "solid", 0.5),
            ("mint", "striped", 0.4), ("grey", "solid", 0.3)]
    found = [SearchResult(Item(sku=f"B{i}", image_path="x.jpg", hash=f"h{i}", category="bag",
                               attrs={"color": c, "pattern": p}), s)
             for i, (c, p, s) in enumerate(bags)]
    rules = resolve(parse_feedback("is not red"), {"color": "mint"}, category="bag")
    results, notes = obey(found, rules, 5, "bag")
    # the reference's own mint first, then by similarity; red and its shade last
    assert [r.item.attrs["color"] for r in results] == ["mint", "orange", "grey", "burgundy",
                                                       "red"] and not notes
