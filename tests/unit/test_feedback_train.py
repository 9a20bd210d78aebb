"""Pairs, training (loss goes down, composition beats the reference alone), weights files.

A bag-of-words hashing tower stands in for MiniLM so these tests stay fast; the synthetic
catalog's vectors are sums of attribute directions, as a trained image encoder's roughly are.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest
import torch

from core.feedback.data import FeedbackData, add_captions, item_info
from core.feedback.evaluate import evaluate_pairs
from core.feedback.model import (
    Combiner,
    CombinerConfig,
    TextProjection,
    WeightsError,
    batch_classification_loss,
    load_combiner,
    save_combiner,
)
from core.feedback.pairs import attribute_pairs, split_of_item
from core.feedback.text import normalise_text
from core.feedback.train import (
    CaptionBank,
    CombinerTrainConfig,
    examples,
    fit_pairs,
    train_combiner,
)
from core.storage.records import Item

COLOURS = ["red", "blue", "black", "white", "green", "pink"]
PATTERNS = ["solid", "striped", "floral"]
SLEEVES = ["short", "long", "sleeveless"]


class HashTower:
    """Bag of words: each word a fixed random direction; enough signal for colour words."""

    name, dim = "hash", 32

    def encode(self, texts, batch_size: int = 0) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in normalise_text(t).split():
                seed = int(hashlib.md5(w.encode()).hexdigest()[:8], 16)
                out[i] += np.random.default_rng(seed).normal(size=self.dim)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def synthetic_items(n: int = 240, seed: int = 0) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        attrs = {"color": rng.choice(COLOURS), "pattern": rng.choice(PATTERNS),
                 "sleeve": rng.choice(SLEEVES), "length": "knee", "fit": "regular"}
        items.append(Item(sku=f"S{i:04d}", image_path=f"images/s{i:04d}.jpg", hash=f"h{i}",
                          category=rng.choice(["dress", "top"]), attrs=attrs,
                          split=["train", "train", "train", "val", "test"][i % 5]))
    return items


def synthetic_vectors(items: list[Item], dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    table: dict[tuple[str, str], np.ndarray] = {}

    def d(kind: str, value: str, scale: float) -> np.ndarray:
        if (kind, value) not in table:
            table[(kind, value)] = rng.normal(size=dim) * scale
        return table[(kind, value)]

    vecs = np.stack([d("cat", it.category, 1.0) + d("color", it.attrs["color"], 1.2)
                     + d("pattern", it.attrs["pattern"], 0.7) + d("sleeve", it.attrs["sleeve"], 0.5)
                     + rng.normal(size=dim) * 0.2 for it in items])
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def synthetic_data(n: int = 240) -> FeedbackData:
    items = synthetic_items(n)
    data = FeedbackData([it.sku for it in items], synthetic_vectors(items),
                        [item_info(it) for it in items])
    data.pairs = attribute_pairs(items, per_reference=4, seed=0)
    add_captions(data.split_pairs("train"), "train", 3, 0)
    add_captions(data.split_pairs("val"), "train", 1, 1)
    add_captions(data.split_pairs("test"), "eval", 1, 2)
    return data


def test_pairs_differ_in_one_or_two_attributes_within_split_and_family():
    items = synthetic_items()
    by_sku = {it.sku: it for it in items}
    pairs = attribute_pairs(items, per_reference=5, seed=1)
    assert pairs
    for p in pairs:
        ref, tgt = by_sku[p.reference], by_sku[p.target]
        assert 1 <= len(p.changes) <= 2
        assert split_of_item(ref) == split_of_item(tgt) == p.split
        for attr, (a, b) in p.changes.items():
            assert a != b
            assert (ref.category, tgt.category) == (a, b) if attr == "category" else \
                (ref.attrs[attr], tgt.attrs[attr]) == (a, b)
    assert attribute_pairs(items, per_reference=5, seed=1)[0] == pairs[0]  # deterministic


def test_split_of_item_falls_back_to_a_stable_hash():
    it = Item(sku="ABC", image_path="x", hash="h")
    assert split_of_item(it) in {"train", "val", "test"}
    assert split_of_item(it) == split_of_item(Item(sku="ABC", image_path="y", hash="z"))


def test_loss_masks_duplicate_targets():
    q = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    loss_plain = batch_classification_loss(q, q, torch.tensor(10.0))
    ids = torch.tensor([0, 0, 1, 2])
    masked = batch_classification_loss(q, q, torch.tensor(10.0), ids)
    assert masked <= loss_plain


@pytest.mark.parametrize("negatives", ["batch", "gallery"])
def test_a_few_steps_lower_the_loss(negatives):
    data = synthetic_data()
    bank = CaptionBank(HashTower(), [c for p in data.pairs for c in p.captions])
    vectors, texts = torch.from_numpy(data.vectors), torch.from_numpy(bank.matrix)
    train = examples(data, bank, "train")
    torch.manual_seed(0)
    model = Combiner(CombinerConfig(img_dim=32, txt_dim=32, hidden=64))
    cfg = CombinerTrainConfig(batch_size=64, lr=3e-3, negatives=negatives)
    hist = fit_pairs(model, vectors, texts, train, cfg, 6).history
    assert hist[-1]["loss"] < hist[0]["loss"] * 0.9


def test_unknown_negatives_is_refused():
    with pytest.raises(ValueError, match="negatives"):
        fit_pairs(Combiner(CombinerConfig(img_dim=4, txt_dim=4, hidden=8)), torch.zeros(2, 4),
            torch.zeros(2, 4), [(0, 1, [0])], CombinerTrainConfig(negatives="all"), 1)


def test_trained_combiner_beats_reference_only_and_roundtrips(tmp_path):
    data = synthetic_data()
    tower = HashTower()
    bank = CaptionBank(tower, [c for p in data.pairs for c in p.captions])
    cfg = CombinerTrainConfig(epochs=25, batch_size=64, lr=3e-3, hidden=64, patience=25,
                      baseline_epochs=5)
    model, baseline, info = train_combiner(data, bank, cfg, text_tower="hash")
    assert info["history"][-1]["val_r10"] > 0
    report = evaluate_pairs(data, bank.encoder(tower), model, baseline, split="test")
    assert set(report["baselines"]) == {"image_only", "text_only", "sum"}
    assert report["r10"] > report["baselines"]["image_only"]["r10"]
    assert report["attr_hit_at_10"] is not None
    path = tmp_path / "feedback_combiner.pt"
    sha = save_combiner(path, model, text_baseline=baseline, meta={"note": "test"})
    assert len(sha) == 64
    loaded, loaded_base, meta = load_combiner(path)
    assert meta == {"note": "test"} and isinstance(loaded_base, TextProjection)
    x, t = torch.from_numpy(data.vectors[:3]), torch.from_numpy(bank.matrix[:3])
    with torch.inference_mode():
        assert torch.allclose(model(x, t), loaded(x, t), atol=1e-6)
    half = tmp_path / "half.pt"
    save_combiner(half, model, text_baseline=baseline, half=True)
    assert half.stat().st_size < path.stat().st_size * 0.6
    small, _, _ = load_combiner(half)
    with torch.inference_mode():
        assert small(x, t).dtype == torch.float32
        assert torch.allclose(model(x, t), small(x, t), atol=1e-2)


def test_bad_weights_files_are_clear(tmp_path):
    with pytest.raises(WeightsError, match="train feedback"):
        load_combiner(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="bad.pt"):
        load_combiner(bad)
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, other)
    with pytest.raises(WeightsError, match="not a feedback combiner"):
        load_combiner(other)


def test_caption_bank_disk_cache(tmp_path):
    cache = tmp_path / "captions_hash.npz"
    first = CaptionBank(HashTower(), ["is red", "is blue"], cache=cache)
    assert cache.is_file()

    class Refuses(HashTower):
        def encode(self, texts, batch_size: int = 0):
            raise AssertionError("should come from the cache")

    again = CaptionBank(Refuses(), ["is blue", "is red"], cache=cache)
    assert np.allclose(again.matrix[again.rows(["is red"])], first.matrix[first.rows(["is red"])])
