"""Outfit compatibility: soft minimum, the networks, weights files, slots, histograms, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from core.demo.build import sample_catalog
from core.demo.outfits import make_outfits
from core.outfits.data import (
    fitb_questions,
    missing_slots,
    outfits_from_docs,
    swap_negatives,
)
from core.outfits.evaluate import evaluate_outfits
from core.outfits.features import (
    HIST_DIM,
    META_DIM,
    CatalogFeatures,
    colour_histogram,
    item_meta,
    side_features,
)
from core.outfits.model import (
    CompatConfig,
    CompatNet,
    WeightsError,
    load_compat,
    save_compat,
    soft_min,
)
from core.outfits.train import CompatibilityTrainConfig, hide_facts, train_compatibility
from core.storage.records import Item
from core.taxonomy import COLORS, SEGMENT_COLORS

DIM = 32


def test_soft_min_follows_the_weakest_pair():
    inf = float("inf")
    x = torch.tensor([[2.0, 2.0, 2.0], [3.0, 3.0, -4.0], [1.5, inf, inf], [inf, inf, inf]])
    out = soft_min(x)
    assert out[0] == pytest.approx(2.0)  # all pairs agree: that value
    assert out[1] < -2.5  # one clashing pair breaks the look
    assert out[2] == pytest.approx(1.5)  # padding pairs (inf) are ignored
    assert out[3] == 0  # no pairs: no evidence


@pytest.mark.parametrize("kind", ["siamese", "mlp"])
def test_pairs_are_symmetric_and_padding_is_ignored(kind):
    torch.manual_seed(0)
    model = CompatNet(CompatConfig(img_dim=DIM, kind=kind)).eval()
    v, h = torch.randn(5, DIM), torch.rand(5, 24)
    ab = model.pair_logits(v[:3], h[:3], v[2:], h[2:])
    ba = model.pair_logits(v[2:], h[2:], v[:3], h[:3])
    assert torch.allclose(ab, ba, atol=1e-5)
    outfit, pairs = model(v[None, :3], h[None, :3], torch.tensor([[True, True, True]]))
    padded_v = torch.cat([v[None, :3], torch.zeros(1, 2, DIM)], dim=1)
    padded_h = torch.cat([h[None, :3], torch.zeros(1, 2, 24)], dim=1)
    outfit2, pairs2 = model(padded_v, padded_h, torch.tensor([[True, True, True, False, False]]))
    assert pairs.shape == (1, 3) and pairs2.shape == (1, 10)
    assert torch.allclose(outfit, outfit2, atol=1e-5)


def test_weights_round_trip_and_clear_errors(tmp_path):
    torch.manual_seed(0)
    model = CompatNet(CompatConfig(img_dim=DIM, image_model="studio_encoder")).eval()
    base = CompatNet(CompatConfig(img_dim=DIM, kind="mlp")).eval()
    path = tmp_path / "compat.pt"
    sha = save_compat(path, model, baseline=base, meta={"metrics": {"auc": 0.9}})
    assert len(sha) == 64 and not path.with_suffix(".pt.tmp").exists()
    loaded, baseline, meta = load_compat(path)
    v, h = torch.randn(4, DIM), torch.rand(4, 24)
    assert torch.allclose(loaded.pair_logits(v[:2], h[:2], v[2:], h[2:]),
                          model.pair_logits(v[:2], h[:2], v[2:], h[2:]))
    assert baseline.cfg.kind == "mlp" and meta["metrics"]["auc"] == 0.9
    with pytest.raises(WeightsError, match="train compat"):
        load_compat(tmp_path / "absent.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a weights file")
    with pytest.raises(WeightsError, match="not a readable weights file"):
        load_compat(tmp_path / "junk.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(WeightsError, match="not an outfit compatibility file"):
        load_compat(tmp_path / "other.pt")
    with pytest.raises(ValueError, match="kind must be"):
        CompatConfig(kind="transformer")


def test_missing_slots():
    assert missing_slots([]) == ["top", "bottom", "shoes"]
    assert missing_slots(["top", "bag"]) == ["bottom", "shoes"]
    assert missing_slots(["full"]) == ["shoes"]
    assert missing_slots(["full", "shoes", None]) == []
    assert missing_slots(["top", "bottom", "shoes", "outer"]) == []


def test_histogram_reads_garment_pixels_only():
    img = Image.new("RGB", (64, 64), (40, 160, 40))  # green backdrop
    img.paste((220, 20, 20), (16, 16, 48, 48))  # red garment
    mask = Image.new("RGB", (64, 64), SEGMENT_COLORS["background"])
    mask.paste(SEGMENT_COLORS["top"], (16, 16, 48, 48))
    h = colour_histogram(img, mask)
    assert h.shape == (24,) and h[:8].sum() == pytest.approx(1.0)
    assert h[6] == pytest.approx(1.0) and h[8] == pytest.approx(1.0)  # red, green 0-31: garment
    plain = Image.new("RGB", (64, 64), (250, 250, 250))
    plain.paste((220, 20, 20), (16, 16, 48, 48))
    assert colour_histogram(plain)[6] == pytest.approx(1.0)  # white backdrop removed
    whole = colour_histogram(Image.new("RGB", (32, 32), (250, 250, 250)))
    assert whole[7] == pytest.approx(1.0)  # nothing to remove: the whole picture counts


def _features(n: int, seed: int = 0, facts_in_vectors: bool = True
              ) -> tuple[CatalogFeatures, list[dict]]:
    """Demo items (no rendering) with vectors from their attributes and colour histograms;
    ``facts_in_vectors=False``: the vectors do not show season and gender (as the demo's
    pictures do not)."""
    raw = sample_catalog(n, seed)
    rng = np.random.default_rng(seed)
    table: dict[tuple[str, str], np.ndarray] = {}

    def part(kind: str, value) -> np.ndarray:
        return table.setdefault((kind, str(value)), rng.normal(size=DIM))

    vecs, hists, items = [], [], []
    for d in raw:
        a = d["attrs"]
        vecs.append(part("cat", d["category"]) + part("color", a["color"])
                    + part("pattern", a["pattern"]) + rng.normal(size=DIM) * 0.3
                    + (part("season", a["season"]) + part("gender", d["gender"])
                       if facts_in_vectors else 0))
        rgb = np.array(COLORS[a["color"]].rgb) // 32
        hists.append(np.concatenate([np.eye(8)[c] for c in rgb]))
        items.append(Item(sku=d["sku"], image_path=d["image"], hash=d["sku"],
                          category=d["category"], attrs=a, gender=d["gender"],
                          split=d["split"]))
    v = np.stack(vecs).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return CatalogFeatures([it.sku for it in items], v, np.stack(hists).astype(np.float32),
                           items), raw


@pytest.fixture(scope="module")
def demo_outfits():
    feats, raw = _features(500)
    docs = make_outfits(raw, np.random.default_rng(1), 1500)
    return feats, outfits_from_docs(docs, feats)


def test_outfits_negatives_and_questions(demo_outfits):
    feats, outfits = demo_outfits
    assert {o.label for o in outfits} == {0, 1} and {o.split for o in outfits} >= {"train",
                                                                                    "test"}
    assert {o.fault for o in outfits if not o.label} >= {"colour", "structure"}
    families = feats.families
    good = [o for o in outfits if o.label][:50]
    negatives = swap_negatives(good, feats, np.random.default_rng(0))
    assert len(negatives) > 40

    def swapped_in_family(o, neg) -> bool:
        diff = [(a, b) for a, b in zip(o.rows, neg.rows, strict=False) if a != b]
        return len(o.rows) == len(neg.rows) and len(diff) == 1 and \
            families[diff[0][0]] == families[diff[0][1]]

    for neg in negatives:  # one piece swapped for another of its family
        assert neg.label == 0 and any(swapped_in_family(o, neg) for o in good)
    questions = fitb_questions(outfits, feats, np.random.default_rng(0))
    assert len(questions) > 20
    for q in questions:
        assert len(q.candidates) == 4 and len(set(q.candidates)) == 4
        assert len({families[c] for c in q.candidates}) == 1  # same family: no giveaway
        assert not set(q.candidates) & set(q.rows)


@pytest.mark.slow
def test_training_learns_the_demo_style_rules(demo_outfits):
    feats, outfits = demo_outfits
    cfg = CompatibilityTrainConfig(epochs=25, patience=25, seed=0)
    model, result = train_compatibility(feats, outfits, "siamese", cfg)
    history = result.history
    assert len(history) == 25 and history[-1]["loss"] < history[0]["loss"]
    report = evaluate_outfits(model, None, feats, outfits, split="test")
    base = report["baselines"]
    assert report["auc"] > 0.8 and report["auc"] > base["similarity"]["auc"] + 0.15
    assert report["fitb"] > 0.45 > base["random"]["fitb"]
    assert report["by_fault"]["colour"]["auc"] > 0.8
    assert report["questions"] > 20 and report["complete_outfits"] <= report["outfits"]


def test_stylist_flags_an_outfit_model_trained_on_other_image_weights(tmp_path):
    import json

    from core.config import load_settings
    from core.outfits.service import Stylist

    cfg = load_settings(env_file=tmp_path / "none.env", WEIGHTS_DIR=str(tmp_path), DEVICE="cpu")
    save_compat(tmp_path / "compat.pt", CompatNet(CompatConfig(img_dim=DIM)).eval(),
                meta={"data": {"image_weights_sha256": "a" * 64}})
    assert Stylist(cfg).warning is None  # no manifest: nothing to compare
    manifest = {"files": {"studio_encoder.pt": {"sha256": "b" * 64}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert "retrain it with `python -m core train compat`" in Stylist(cfg).warning
    manifest["files"]["studio_encoder.pt"]["sha256"] = "a" * 64
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert Stylist(cfg).warning is None


def test_catalog_facts_are_one_hot_and_unknown_facts_zero():
    meta = item_meta("winter", "men")
    assert meta.shape == (META_DIM,) and meta.sum() == 2
    assert item_meta(None, "").sum() == 0 and item_meta("monsoon", "women").sum() == 1
    hist = np.full(HIST_DIM, 0.125, np.float32)
    photo = side_features(hist)  # a photo: nobody stated its season or gender
    assert photo.shape == (HIST_DIM + META_DIM,) and not photo[HIST_DIM:].any()
    feats, _ = _features(20)
    assert feats.side.shape == (20, HIST_DIM + META_DIM)
    assert np.array_equal(feats.side[:, :HIST_DIM], feats.hists)
    assert (feats.side[:, HIST_DIM:].sum(1) == 2).all()  # every demo item has both facts


def test_hiding_facts_keeps_the_histogram():
    torch.manual_seed(0)
    h = torch.rand(4, 3, HIST_DIM + META_DIM)
    assert torch.equal(hide_facts(h, 0.0), h)
    hidden = hide_facts(h, 0.999999)
    assert torch.equal(hidden[..., :HIST_DIM], h[..., :HIST_DIM])
    assert not hidden[..., HIST_DIM:].any()


def test_a_pictures_only_model_reads_just_the_histogram():
    """Weights trained before the facts existed (meta_dim 0) score the same whatever facts
    follow the histogram; a model with facts reads them."""
    torch.manual_seed(0)
    old = CompatNet(CompatConfig(img_dim=DIM)).eval()
    new = CompatNet(CompatConfig(img_dim=DIM, meta_dim=META_DIM)).eval()
    v = torch.randn(4, DIM)
    h = torch.rand(4, HIST_DIM)
    wide = torch.cat([h, torch.rand(4, META_DIM)], dim=1)
    other = torch.cat([h, torch.rand(4, META_DIM)], dim=1)
    assert torch.allclose(old.pair_logits(v[:2], h[:2], v[2:], h[2:]),
                          old.pair_logits(v[:2], wide[:2], v[2:], wide[2:]))
    assert not torch.allclose(new.pair_logits(v[:2], wide[:2], v[2:], wide[2:]),
                              new.pair_logits(v[:2], other[:2], v[2:], other[2:]))


@pytest.mark.slow
def test_catalog_facts_catch_what_the_pictures_do_not_show():
    """Season clashes and gender mixes are invisible in these vectors: the model that reads the
    catalog's facts catches them, the pictures-only model cannot."""
    feats, raw = _features(500, facts_in_vectors=False)
    outfits = outfits_from_docs(make_outfits(raw, np.random.default_rng(1), 1500), feats)
    reports = {}
    for facts in (False, True):
        cfg = CompatibilityTrainConfig(epochs=20, patience=20, seed=0, facts=facts)
        model, _ = train_compatibility(feats, outfits, "siamese", cfg)
        reports[facts] = evaluate_outfits(model, None, feats, outfits, split="test")
    by_fault = {facts: r["by_fault"] for facts, r in reports.items()}
    assert by_fault[True]["season"]["auc"] > max(0.85, by_fault[False]["season"]["auc"] + 0.1)
    assert by_fault[True]["colour"]["auc"] > 0.8  # the pictures still count
    # with the facts hidden (photos) the season clashes are as invisible as without them
    assert "without_facts" not in reports[False]
    hidden = reports[True]["without_facts"]
    assert hidden["by_fault"]["season"]["auc"] < by_fault[True]["season"]["auc"] - 0.1
    assert hidden["by_fault"]["colour"]["auc"] > 0.8 and 0 <= hidden["fitb"] <= 1


def test_a_photo_piece_takes_the_facts_its_owner_states():
    from core.outfits.service import Piece

    hist = np.full(HIST_DIM, 0.125, np.float32)
    photo = Piece(np.ones(DIM, np.float32), side_features(hist), "tee", None, "mine.jpg")
    stated = photo.with_facts("winter", "men")
    assert np.array_equal(stated.side[:HIST_DIM], hist) and stated.gender == "men"
    assert np.array_equal(stated.side[HIST_DIM:], item_meta("winter", "men"))
    unknown = stated.with_facts(None, None)
    assert not unknown.side[HIST_DIM:].any() and unknown.gender is None
