"""The label oracle: the ceiling of the demo search figures given the catalog's label counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.models.data import TensorSet
from core.models.evaluate import joint_ceiling, oracle_metrics


def _set(rows: list[tuple[str, str, int]]) -> TensorSet:
    """(category, sku, colour) rows -> a TensorSet with 'category|sku' labels."""
    n = len(rows)
    return TensorSet(torch.zeros(n, 3, 2, 2, dtype=torch.uint8), torch.zeros(n, 1),
                     torch.tensor([c for _, _, c in rows]), torch.arange(n),
                     torch.zeros(n, 1), [f"{cat}|{sku}" for cat, sku, _ in rows])


def test_category_aware_search_keeps_to_the_predicted_category():
    """Category-restricted search: candidates outside the classifier's top category
    never count, even when fewer than ten remain; a wrong prediction scores nothing."""
    from core.models.evaluate import category_aware_metrics, ranking_metrics
    from core.models.labels import CATEGORY_NAMES

    # the query (tee T0, red) sits closest to two bags, then to its own item and another tee;
    # eight hats of another colour far away
    gallery = _set([("bag", "B0", 0), ("bag", "B1", 0), ("tee", "T0", 0), ("tee", "T1", 1)]
                   + [("hat", f"H{i}", 2) for i in range(8)])
    queries = _set([("tee", "T0", 0), ("tee", "T0", 0)])
    g_emb = np.array([[1.0, 0.0], [0.99, 0.14], [0.9, 0.44], [0.8, 0.6]]
                     + [[-1.0, 0.0]] * 8, np.float32)
    q_emb = np.array([[1.0, 0.0], [1.0, 0.0]], np.float32)
    plain = ranking_metrics(q_emb, g_emb, gallery, queries)
    assert plain["r1_item"] == 0.0 and plain["p10_category"] == 0.2  # two tees of 10 slots
    probs = np.zeros((2, len(CATEGORY_NAMES)), np.float32)
    probs[0, CATEGORY_NAMES.index("tee")] = 1.0  # right
    probs[1, CATEGORY_NAMES.index("bag")] = 1.0  # wrong: only bags remain, none counts
    out = category_aware_metrics(probs, q_emb, g_emb, gallery, queries)
    assert out["classifier_top1"] == 0.5 and out["queries"] == 2
    assert out["r1_item"] == 0.5  # the tee query now finds its item first
    assert out["p10_category"] == 0.1  # (2 tees of 10 slots + 0) / 2; bags never count
    assert out["p10_color"] == 0.15  # (the red tee + the two red bags) of 20 slots


def test_oracle_ranks_item_then_category_and_colour():
    # 12 tees: 6 red (one of them the query's item), 6 blue; 12 red bags.
    gallery = _set([("tee", f"T{i}", 0) for i in range(6)]
                   + [("tee", f"U{i}", 1) for i in range(6)]
                   + [("bag", f"B{i}", 0) for i in range(12)])
    queries = _set([("tee", "T0", 0)])
    out = oracle_metrics(gallery, queries)
    assert out["r1_item"] == 1.0 and out["queries"] == 1
    assert out["p10_category"] == 1.0  # 12 tees fill the top 10
    assert out["p10_color"] == 0.6  # only 6 red tees exist: category outranks colour
    # No ranking gets category + colour above 1 + 6/10: only 6 items share both labels.
    assert joint_ceiling(gallery, queries) == 1.6
    assert out["p10_category"] + out["p10_color"] <= joint_ceiling(gallery, queries)
    assert joint_ceiling(gallery, _set([("bag", "B0", 0)])) == 2.0  # 12 red bags
    # An oracle that knows only look-alike groups: T0 looks like T1..T3, so it finds T0 first
    # one time in four; its top 10 still starts with the look-alikes.
    groups = {f"T{i}": 0 if i < 4 else 1 + i for i in range(6)}
    groups.update({f"U{i}": 10 + i for i in range(6)} | {f"B{i}": 20 + i for i in range(12)})
    out = oracle_metrics(gallery, queries, groups)
    assert out["r1_item"] == 0.25 and out["p10_category"] == 1.0 and out["p10_color"] == 0.6


def test_inference_views_average_features_and_survive_a_checkpoint(tmp_path):
    from core.models.encoder import view
    from core.models.studio import load_checkpoint, new_encoder, save_checkpoint

    torch.manual_seed(0)
    model = new_encoder(widths=(8, 8, 16, 16)).eval()
    x = torch.rand(3, 3, 32, 32)
    plain = model(x)
    assert torch.allclose(plain, model.embed(model.features(x)))  # default: the plain image
    assert view(x, 1.0, True).equal(x.flip(-1)) and view(x, 0.5, False).shape == x.shape
    model.views = ((1.0, False), (1.0, True), (0.9, False), (0.9, True))
    with torch.inference_mode():
        expected = model.embed(sum(model.features(view(x, z, f)) for z, f in model.views) / 4)
        assert torch.allclose(model(x), expected, atol=1e-6)
        assert not torch.allclose(model(x), plain)
        model.train()
        assert model(x).shape == plain.shape  # training calls never average views
    path = save_checkpoint(model.eval(), tmp_path / "enc.pt")
    loaded, _ = load_checkpoint(path)
    assert loaded.views == model.views
    with torch.inference_mode():
        assert torch.allclose(loaded(x), model(x), atol=1e-5)


def test_tune_chooses_views_and_chunk_weights_on_validation_data(tmp_path, capsys):
    import json

    import numpy as np
    from PIL import Image

    from core.cli import main
    from core.models.studio import load_checkpoint, new_encoder, save_checkpoint
    from core.models.tune import VIEW_CANDIDATES

    rng = np.random.default_rng(0)
    for c, tone in (("pants", 40), ("shoes", 120), ("hat", 220)):
        (tmp_path / "photos" / "train" / c).mkdir(parents=True)
        for i in range(10):
            px = np.clip(rng.normal(tone, 30, (40, 30, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(px).save(tmp_path / "photos" / "train" / c / f"{i}.jpg")
    torch.manual_seed(0)
    init = save_checkpoint(new_encoder(widths=(8, 8, 16, 16)), tmp_path / "enc.pt")
    out = tmp_path / "tuned.pt"
    code = main(["train", "tune", "--init", str(init), "--data-real", str(tmp_path / "photos"),
                 "--out", str(out), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["file"] == str(out)
    views = report["views_selection"]
    assert views["chosen"] in VIEW_CANDIDATES and set(views["scores"]) == set(VIEW_CANDIDATES)
    weights = report["chunk_weights_selection"]["chosen"]
    assert len(weights) == 3 and abs(sum(weights) - 1) < 1e-6
    model, payload = load_checkpoint(out)
    assert model.views == VIEW_CANDIDATES[views["chosen"]]
    assert torch.allclose(model.chunk_scale ** 2, torch.tensor(weights), atol=1e-5)
    assert payload["chunk_weights_selection"]["chosen"] == weights
    assert report["item_weights_selection"] is None and model.item_weights is None  # no renders
    assert main(["train", "tune", "--init", str(tmp_path / "missing.pt"),
                 "--data-real", str(tmp_path / "photos"), "--out", str(out)]) == 2


def test_chunk_weights_rule_keeps_colour_then_meets_most_goals(monkeypatch):
    from core.models import tune

    keys = ("p10_category", "p10_color", "r1_item", "photo_p10")
    figures = {  # (category, colour, identity) -> validation figures
        (0.2, 0.3, 0.5): dict(zip(keys, (0.39, 0.904, 0.743, 0.79), strict=True)),
        (0.5, 0.35, 0.15): dict(zip(keys, (0.40, 0.906, 0.72, 0.82), strict=True)),
        (0.3, 0.1, 0.6): dict(zip(keys, (0.5, 0.85, 0.8, 0.85), strict=True)),
    }
    monkeypatch.setattr(tune, "weight_grid", lambda: list(figures))
    monkeypatch.setattr(tune, "weight_metrics",
                        lambda feats, data, chunks, w: tune.against_targets(figures[w]))
    model = type("Model", (), {"chunks": (64, 32, 32)})()
    out = tune.select_chunk_weights(tune.weight_rows(model, {"demo": _set([("tee", "T0", 0)])},
                                                     {}))
    # The first row has the smaller shortfall (0.627 vs 0.63) but meets one target, not two;
    # the third meets two as well but loses colour.
    assert out["chosen"] == [0.5, 0.35, 0.15]
    assert [r["targets_met"] for r in out["top"]] == [2, 1, 2]
    assert [r["shortfall"] for r in out["top"]] == [0.63, 0.627, 0.5]


def test_embed_and_classify_is_one_pass_with_the_same_answers():
    from PIL import Image

    from core.models.embed import Embedder
    from core.models.studio import new_encoder

    torch.manual_seed(0)
    model = new_encoder(widths=(8, 8, 16, 16))
    model.views = ((1.0, False), (1.0, True))
    emb = Embedder("studio_encoder", model=model)
    images = [Image.new("RGB", (50, 70), (200, 30, 40)), Image.new("RGB", (60, 60), (20, 90, 200))]
    calls = []
    model.trunk.register_forward_hook(lambda *a: calls.append(1))
    vecs, preds = emb.embed_and_classify(images, k=2)
    assert len(calls) == 2  # one batch, two views: the embedding and the heads share them
    assert torch.allclose(torch.from_numpy(vecs), torch.from_numpy(emb.embed_images(images)),
                          atol=1e-6)
    assert preds == emb.predict_categories(images, k=2)


def test_tuning_retrieval_searches_the_distractors_too():
    from core.models import tune
    from core.models.studio import new_encoder

    model = new_encoder(widths=(8, 8, 16, 16))
    torch.manual_seed(0)
    a, b = torch.randn(128), torch.randn(128)
    # Two val items, pictures alternating variant 0 (gallery) and 1 (query).
    demo = TensorSet(torch.zeros(4, 3, 2, 2, dtype=torch.uint8), torch.zeros(4, 1),
                     torch.tensor([0, 0, 1, 1]), torch.tensor([0, 0, 1, 1]), torch.zeros(4, 1),
                     ["tee", "tee", "bag", "bag"])
    feats = {"demo": torch.stack([a, a + 0.3 * torch.randn(128), b, b + 0.3 * torch.randn(128)])}
    w = (0.3, 0.4, 0.3)
    assert tune.weight_metrics(feats, {"demo": demo}, model, w)["r1_item"] == 1.0
    # A test-split item that looks exactly like item 0's query photo outranks its catalog shot.
    extra = TensorSet(torch.zeros(1, 3, 2, 2, dtype=torch.uint8), torch.zeros(1, 1),
                      torch.tensor([0]), torch.tensor([tune.DISTRACTOR_IDS]), torch.zeros(1, 1),
                      ["tee"])
    feats["distractors"] = feats["demo"][1:2].clone()
    out = tune.weight_metrics(feats, {"demo": demo, "distractors": extra}, model, w)
    assert out["r1_item"] == 0.5


def test_item_query_reweighs_chunks_against_vectors_stored_with_other_weights():
    """The "this exact item" mode: a query re-weighted by ``query_as`` ranks the catalog's
    stored vectors (fused with the model's own weights) as if both sides had been fused with
    the item weights, and its rescaled score is the weighted cosine sum(w_i cos_i)."""
    from core.models.studio import new_encoder

    torch.manual_seed(0)
    model = new_encoder(widths=(8, 8, 16, 16), chunk_weights=(0.4, 0.5, 0.1))
    zq, zg = torch.randn(3, 128), torch.randn(40, 128)
    stored = model.embed(zg)  # the catalog, embedded once with the model's weights
    w = (0.1, 0.2, 0.7)
    q, scale = model.query_as(zq, w), model.query_factors(w)[1]
    assert torch.allclose(q.norm(dim=1), torch.ones(3), atol=1e-6)
    cos = [a @ b.T for a, b in zip(model.unit_chunks(zq), model.unit_chunks(zg), strict=True)]
    weighted = sum(wi * c for wi, c in zip(w, cos, strict=True))
    assert torch.allclose((q @ stored.T) * scale, weighted, atol=1e-5)
    both_fused = model.embed(zq, w) @ model.embed(zg, w).T  # re-embedding the catalog
    assert torch.equal((q @ stored.T).argsort(1), both_fused.argsort(1))
    same = model.query_as(zg[:1], w)
    assert abs(float(same @ stored[:1].T) * scale - 1.0) < 1e-5  # a perfect match scores 1


def test_one_grid_serves_both_selections():
    """The chunk-weight candidates are the item-weight grid's rows with category >= 0.2 and
    colour >= 0.05: the same set the two selections searched when each had its own grid."""
    from core.models import tune

    grid = set(tune.weight_grid())
    chunk = {w for w in grid if w[0] >= 0.2 and w[1] >= 0.05}
    assert all(abs(sum(w) - 1) < 1e-9 and w[2] >= 0.05 for w in grid)
    assert (0.0, 0.0, 1.0) in grid and (0.85, 0.1, 0.05) in grid and (0.2, 0.75, 0.05) not in grid
    assert len(grid) == 192 and len(chunk) == 118


def test_item_weights_rule_takes_the_best_item_recall(monkeypatch):
    from core.models import tune

    keys = ("p10_category", "p10_color", "r1_item")
    figures = {(0.4, 0.5, 0.1): (0.6, 0.95, 0.70), (0.1, 0.1, 0.8): (0.3, 0.7, 0.78),
               (0.2, 0.2, 0.6): (0.5, 0.8, 0.78), (0.0, 0.0, 1.0): (0.2, 0.5, 0.75)}
    monkeypatch.setattr(tune, "weight_grid", lambda: list(figures))
    monkeypatch.setattr(tune, "weight_metrics", lambda feats, data, model, w: tune.against_targets(
        dict(zip(keys, figures[w], strict=True))))
    out = tune.select_item_weights(tune.weight_rows(None, {"demo": _set([("tee", "T0", 0)])}, {}))
    assert out["chosen"] == [0.2, 0.2, 0.6]  # ties on R@1 go to category + colour
    photo_rows = [{"w": [0.4, 0.5, 0.1], **tune.against_targets({"photo_p10": 0.8})}]
    assert tune.select_item_weights(photo_rows) is None  # photos only


def test_item_weights_survive_a_checkpoint(tmp_path):
    from core.models.studio import load_checkpoint, new_encoder, save_checkpoint

    model = new_encoder(widths=(8, 8, 16, 16))
    assert load_checkpoint(save_checkpoint(model, tmp_path / "a.pt"))[0].item_weights is None
    model.item_weights = (0.1, 0.1, 0.8)
    loaded, payload = load_checkpoint(save_checkpoint(model, tmp_path / "b.pt"))
    assert loaded.item_weights == (0.1, 0.1, 0.8) and payload["item_weights"] == [0.1, 0.1, 0.8]


def test_head_accuracy_reads_back_attributes_and_details_where_known():
    """The eval's "heads" figures: each training head scored on the queries whose drawn
    value is known (photos and items without that detail are left out)."""
    from core.models.evaluate import head_accuracy
    from core.models.labels import ATTR_DIM, DETAIL_NAMES, HEAD_ATTRS, attr_onehot
    from core.models.metrics import features_u8
    from core.models.studio import add_attr_heads, new_encoder, preprocess_of

    torch.manual_seed(0)
    model = new_encoder(widths=(8, 16, 16, 32)).eval()
    assert head_accuracy(model, _set([("tee", "T0", 0)])) == {}  # no heads: nothing to read
    add_attr_heads(model, (*HEAD_ATTRS, *DETAIL_NAMES))
    n = 6
    attrs = torch.tensor([attr_onehot({"fit": "slim"}) if i < 4 else [0.0] * ATTR_DIM
                          for i in range(n)])
    details = torch.full((n, len(DETAIL_NAMES)), -1, dtype=torch.long)
    details[:3, DETAIL_NAMES.index("bag")] = torch.tensor([0, 1, 2])
    queries = TensorSet(torch.randint(0, 255, (n, 3, 40, 40), dtype=torch.uint8),
                        torch.zeros(n, 1), torch.zeros(n, dtype=torch.long), torch.arange(n),
                        attrs, [f"tee|S{i}" for i in range(n)], details)
    out = head_accuracy(model, queries)
    assert set(out) == {"fit", "bag"}  # other heads: no known value among these queries
    assert out["fit"]["n"] == 4 and out["bag"]["n"] == 3
    z = features_u8(model, queries.images, preprocess_of(model))
    with torch.no_grad():
        pred = model.attr_logits(z)["bag"][:3].argmax(1)
    truth = details[:3, DETAIL_NAMES.index("bag")]
    assert out["bag"]["accuracy"] == round(float((pred == truth).float().mean()), 4)


def test_catalog_bounds_needs_a_test_split():
    from core.models.evaluate import catalog_bounds

    with pytest.raises(ValueError, match="no test split"):
        catalog_bounds([{"sku": "a", "category": "tee", "split": "train", "attrs": {}}])
