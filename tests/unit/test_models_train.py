"""Losses, data caching and the shared training loop on tiny synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from core.models.data import TensorSet, demo_set, photo_set, split_holdout
from core.models.labels import (
    ATTR_DIM,
    ATTR_VOCAB,
    CATEGORY_NAMES,
    COLOR_NAMES,
    DETAIL_NAMES,
    HEAD_ATTRS,
    attr_onehot,
    attr_targets,
    detail_row,
    group_matrix,
)
from core.models.losses import group_cross_entropy, triplet_loss
from core.models.preprocess import PreprocessCfg
from core.models.studio import add_attr_heads, load_checkpoint, new_encoder, save_checkpoint
from core.models.train import Batcher, EncoderTrainConfig, batch_loss, fit_encoder

TINY = (8, 16, 16, 32)
PRE = PreprocessCfg(size=40, mean=(0.5,) * 3, std=(0.25,) * 3)


@pytest.mark.parametrize("mining", ["batch_hard", "semi_hard"])
def test_triplet_loss_zero_when_separated_positive_when_mixed(mining):
    labels = torch.tensor([0, 0, 1, 1])
    apart = torch.nn.functional.normalize(torch.tensor([[1, 0.01], [1, -0.01], [-1, 0.01],
                                                        [-1, -0.01]]), dim=1)
    assert triplet_loss(apart, labels, 0.2, mining) == 0
    mixed = apart[[0, 2, 1, 3]]
    assert triplet_loss(mixed, labels, 0.2, mining) > (1.0 if mining == "batch_hard" else 0.1)


def test_triplet_loss_rejects_unknown_mining():
    with pytest.raises(ValueError, match="mining"):
        triplet_loss(torch.zeros(2, 2), torch.tensor([0, 1]), mining="random")


def test_group_cross_entropy_is_cross_entropy_for_one_hot_and_sums_groups():
    logits = torch.randn(5, 4)
    y = torch.tensor([0, 1, 2, 3, 1])
    one_hot = torch.eye(4)[y]
    assert torch.allclose(group_cross_entropy(logits, one_hot),
                          torch.nn.functional.cross_entropy(logits, y))
    both = torch.tensor([[1.0, 1.0, 0, 0]])
    p = logits[:1].softmax(1)
    assert torch.allclose(group_cross_entropy(logits[:1], both), -torch.log(p[0, 0] + p[0, 1]))


def test_group_matrix_maps_real_classes_onto_catalog_categories():
    mat = group_matrix(["pants", "t-shirt", "shoes"])
    assert mat[0, CATEGORY_NAMES.index("jeans")] == 1 and mat[0, CATEGORY_NAMES.index("tee")] == 0
    assert mat[1, CATEGORY_NAMES.index("tee")] == 1
    assert mat[2].sum() == 4
    with pytest.raises(KeyError):
        group_matrix(["spaceship"])


def _synthetic_set(n_per: int = 24, size: int = 48, seed: int = 0) -> TensorSet:
    """Four classes: coloured square / disc / bar / cross on a light background."""
    rng = np.random.default_rng(seed)
    cats = ["tee", "jeans", "dress", "sneakers"]
    imgs, labels = [], []
    for ci, cat in enumerate(cats):
        for _ in range(n_per):
            a = np.full((size, size, 3), 230, np.uint8) + rng.integers(0, 20, (size, size, 3),
                                                                        dtype=np.uint8)
            c = rng.integers(0, 120, 3)
            o = int(rng.integers(4, 12))
            if ci == 0:
                a[o:o + 24, o:o + 24] = c
            elif ci == 1:
                yy, xx = np.mgrid[:size, :size]
                a[(yy - 24) ** 2 + (xx - 24) ** 2 < 140] = c
            elif ci == 2:
                a[:, o + 10:o + 18] = c
            else:
                a[o + 10:o + 16, :] = c
                a[:, o + 10:o + 16] = c
            imgs.append(a)
            labels.append(cat)
    images = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()
    idx = torch.tensor([CATEGORY_NAMES.index(c) for c in labels])
    n = len(labels)
    return TensorSet(images, torch.eye(len(CATEGORY_NAMES))[idx], torch.full((n,), -1), idx,
                     torch.zeros(n, ATTR_DIM), labels)


def test_one_epoch_lowers_the_loss(tmp_path):
    torch.manual_seed(0)
    data = _synthetic_set()
    model = new_encoder(widths=TINY)
    cfg = EncoderTrainConfig(epochs=1, batch_size=16, lr=3e-3, crop_size=40, schedule="plateau",
                      aug_strength=0.3)
    probe = data.subset(range(0, len(data), 3))

    def probe_loss(m) -> float:
        m.eval()
        with torch.no_grad():
            return float(batch_loss(m, probe, cfg, PRE, torch.Generator().manual_seed(5))[0])

    before = probe_loss(model)
    saved = []
    result = fit_encoder(model, Batcher(data, None, cfg), lambda m: {"score": -probe_loss(m)},
                         cfg, PRE, lambda m, row: saved.append(row), out_dir=tmp_path)
    assert probe_loss(model) < before
    assert len(result.history) == 1 and saved
    assert (tmp_path / "training_curves.png").stat().st_size > 1000


def test_the_time_budget_cuts_the_epoch_under_way_short(tmp_path):
    torch.manual_seed(0)
    data = _synthetic_set()
    cfg = EncoderTrainConfig(epochs=5, batch_size=8, crop_size=40, schedule="plateau",
                             max_minutes=1e-9)
    batcher, steps = Batcher(data, None, cfg), []
    assert batcher.steps > 1
    result = fit_encoder(new_encoder(widths=TINY), batcher, lambda m: {"score": 0.0}, cfg, PRE,
                         lambda m, row: None, on_step=lambda e, s: steps.append((e, s)))
    # one step, then the epoch ends, is validated and kept, and the run ends
    assert steps == [(1, 1)] and len(result.history) == 1 and result.reason == "time"
    assert result.best_epoch == 1


def test_training_with_renders_uses_pk_batches_and_attributes(tmp_path):
    data = _synthetic_set(n_per=6)
    demo = TensorSet(data.images, data.groups, torch.randint(0, len(COLOR_NAMES), (len(data),)),
                     torch.arange(len(data)) // 2, torch.rand(len(data), ATTR_DIM).round(),
                     data.labels)
    cfg = EncoderTrainConfig(epochs=1, batch_size=12, demo_k=2, crop_size=32, mining="semi_hard")
    batcher = Batcher(data, demo, cfg)
    batch = next(iter(batcher))
    assert len(batch) == 12
    demo_ids = batch.ident[batcher.n_photo:]
    assert all((demo_ids == i).sum() == 2 for i in demo_ids.unique())
    model = new_encoder(widths=TINY)
    loss, parts = batch_loss(model, batch, cfg, PRE, torch.Generator().manual_seed(0))
    assert loss.requires_grad and {"cat", "color", "triplet"} <= set(parts)


def _short_fit(model, demo: TensorSet, cfg: EncoderTrainConfig, tmp_path) -> tuple[dict, dict]:
    """(loss parts on ``demo`` before, after) a short fit of ``model`` on it."""
    gen = torch.Generator().manual_seed(0)
    model.eval()
    with torch.no_grad():
        before = batch_loss(model, demo, cfg, PRE, gen)[1]
    fit_encoder(model, Batcher(None, demo, cfg), lambda m: {"score": 0.0}, cfg, PRE,
                lambda m, row: None, out_dir=tmp_path)
    model.eval()
    with torch.no_grad():
        return before, batch_loss(model, demo, cfg, PRE, gen)[1]


def test_attribute_heads_learn_the_drawn_attributes_and_survive_a_checkpoint(tmp_path):
    """--attr-weight: heads on the identity chunk predict fit (etc.) from pixels; pictures
    whose value is unknown (photos) are left out of that loss."""
    torch.manual_seed(0)
    data = _synthetic_set(n_per=8)
    fits = ["slim", "regular", "loose", None]  # one class per shape; sneakers: no fit known
    onehot = torch.tensor([attr_onehot({"fit": fits[["tee", "jeans", "dress", "sneakers"]
                                                     .index(c)]} if c != "sneakers" else {})
                           for c in data.labels])
    targets = attr_targets(onehot)
    assert set(targets) == set(HEAD_ATTRS)
    assert (targets["fit"][:8] == ATTR_VOCAB["fit"].index("slim")).all()
    assert (targets["fit"][-8:] == -1).all() and (targets["pattern"] == -1).all()
    demo = TensorSet(data.images, data.groups, torch.zeros(len(data), dtype=torch.long),
                     torch.arange(len(data)) // 2, onehot, data.labels)
    model = new_encoder(widths=TINY)
    add_attr_heads(model)
    cfg = EncoderTrainConfig(epochs=3, batch_size=16, lr=3e-3, crop_size=40, aug_strength=0.3,
                      attr_weight=1.0)
    before, after = _short_fit(model, demo, cfg, tmp_path)
    assert after["attrs"] < before["attrs"]
    loaded, payload = load_checkpoint(save_checkpoint(model, tmp_path / "a.pt"))
    assert payload["arch"]["attr_heads"] and set(loaded.attr_heads) == set(HEAD_ATTRS)
    x = torch.rand(2, 3, 40, 40)
    with torch.no_grad():
        z = loaded.features(x)
        assert all(v.shape == (2, len(ATTR_VOCAB[k])) for k, v in loaded.attr_logits(z).items())
    assert new_encoder(widths=TINY).attr_logits(z) == {}  # no heads, no attribute loss


def test_detail_rows_name_each_items_discrete_draws():
    """A render record's details are the drawers' own discrete draws, -1 where it has none."""
    from core.demo.draws import DETAIL_VOCAB, detail_labels
    from core.demo.render import style_vector
    from core.demo.specs import sample_attrs
    from core.taxonomy import CATEGORIES

    rng = np.random.default_rng(3)
    seen: dict[str, set] = {name: set() for name in DETAIL_NAMES}
    for i in range(400):
        cat = list(CATEGORIES)[i % len(CATEGORIES)]
        rec = {"sku": f"s{i}", "category": cat, "attrs": sample_attrs(rng, cat)}
        row = detail_row(rec)
        found = detail_labels(rec["category"], _family(rec["category"]), rec["attrs"],
                              style_vector(rec))
        named = [DETAIL_VOCAB[n][v] if v >= 0 else None
                 for n, v in zip(DETAIL_NAMES, row, strict=True)]
        assert named == [found.get(n) for n in DETAIL_NAMES]
        if rec["category"] in ("jacket", "jeans", "boots", "shirt"):
            assert row == [-1] * len(DETAIL_NAMES)  # no discrete draws to read
        for n, v in zip(DETAIL_NAMES, row, strict=True):
            if v >= 0:
                seen[n].add(v)
    assert all(len(seen[n]) >= 2 for n in DETAIL_NAMES)  # every head sees several values


def _family(cat: str) -> str:
    from core.taxonomy import CATEGORIES

    return CATEGORIES[cat].family


def test_detail_heads_learn_and_sets_without_details_join_with_unknowns(tmp_path):
    """--detail-weight: heads for the discrete draws train on renders whose value is known;
    photos (no details) concatenate as -1; checkpoints list every head they have."""
    torch.manual_seed(0)
    data = _synthetic_set(n_per=8)
    necks = {"tee": 0, "jeans": -1, "dress": 1, "sneakers": -1}
    details = torch.full((len(data), len(DETAIL_NAMES)), -1, dtype=torch.long)
    details[:, DETAIL_NAMES.index("neckline")] = torch.tensor([necks[c] for c in data.labels])
    demo = TensorSet(data.images, data.groups, torch.zeros(len(data), dtype=torch.long),
                     torch.arange(len(data)) // 2, torch.zeros(len(data), ATTR_DIM),
                     data.labels, details)
    mixed = TensorSet.concat([data, demo])
    assert (mixed.detail_rows()[:len(data)] == -1).all()
    assert torch.equal(mixed.subset([len(data)]).details, details[:1])
    model = new_encoder(widths=TINY)
    add_attr_heads(model, HEAD_ATTRS)
    add_attr_heads(model, DETAIL_NAMES)
    cfg = EncoderTrainConfig(epochs=3, batch_size=16, lr=3e-3, crop_size=40, aug_strength=0.3,
                      detail_weight=1.0)
    before, after = _short_fit(model, demo, cfg, tmp_path)
    assert "attrs" not in before  # attribute heads present but weighted 0
    assert after["details"] < before["details"]
    loaded, payload = load_checkpoint(save_checkpoint(model, tmp_path / "d.pt"))
    assert payload["arch"]["attr_heads"] == [*HEAD_ATTRS, *DETAIL_NAMES]
    assert set(loaded.attr_heads) == {*HEAD_ATTRS, *DETAIL_NAMES}
    old = dict(payload, arch=dict(payload["arch"], attr_heads=True))  # a session-7 checkpoint
    old["state_dict"] = {k: v for k, v in payload["state_dict"].items()
                         if not any(f"attr_heads.{n}." in k for n in DETAIL_NAMES)}
    torch.save(old, tmp_path / "old.pt")
    assert set(load_checkpoint(tmp_path / "old.pt")[0].attr_heads) == set(HEAD_ATTRS)


def _lookalike_renders(n_items: int = 40, per_item: int = 3) -> TensorSet:
    """Renders of items in 4 categories x 5 colours (two items per bucket), 3 pictures each."""
    ids = torch.arange(n_items).repeat_interleave(per_item)
    cats = [CATEGORY_NAMES[int(i) % 4] for i in ids]
    color = (ids // 4) % 5
    n = len(ids)
    return TensorSet(torch.randint(0, 255, (n, 3, 40, 40), dtype=torch.uint8),
                     group_matrix(cats), color, ids, torch.zeros(n, ATTR_DIM), cats)


def test_grouped_render_batches_hold_lookalike_items():
    demo = _lookalike_renders()
    cfg = EncoderTrainConfig(batch_size=16, demo_k=2, demo_group=2)
    batch = next(iter(Batcher(None, demo, cfg)))
    items = batch.ident.unique()
    assert len(batch) == 16 and len(items) == 8
    assert all((batch.ident == i).sum() == 2 for i in items)
    keys = [(batch.labels[int(torch.nonzero(batch.ident == i)[0])],
             int(batch.color[batch.ident == i][0])) for i in items]
    # every item's bucket-mate (same category and colour) is in the batch with it
    assert all(keys.count(k) == 2 for k in keys)
    rand = next(iter(Batcher(None, demo, EncoderTrainConfig(batch_size=16, demo_k=2))))
    assert len(rand.ident.unique()) == 8


def _write_class_folders(root, classes=("pants", "shoes"), n=3):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(
                root / c / f"{i}.jpg")


def test_photo_set_and_holdout(tmp_path):
    _write_class_folders(tmp_path)
    ts = photo_set(tmp_path, 32)
    assert ts.images.shape == (6, 3, 32, 32) and ts.images.dtype == torch.uint8
    assert ts.labels.count("pants") == 3
    assert ts.groups[0, CATEGORY_NAMES.index("trousers")] == 1
    train, hold = split_holdout(ts, 0.34, seed=0)
    assert len(hold) == 2 and len(train) == 4


def test_demo_set_renders_variants(tmp_path):
    recs = [{"sku": f"s{i}", "image": f"images/{i}.png", "category": "dress", "split": "train",
             "attrs": {"color": "red", "pattern": "solid"}} for i in range(2)]
    (tmp_path / "images").mkdir()
    for i in range(2):
        Image.new("RGB", (64, 64), (200, 10, 10)).save(tmp_path / f"images/{i}.png")
    (tmp_path / "items.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    calls = []

    def fake_render(rec, variant, size):
        calls.append((rec["sku"], variant))
        return Image.new("RGB", (size, size), (190, 20, 20))

    ts = demo_set(tmp_path, 24, variants=(0, 1, 2), render=fake_render)
    assert len(ts) == 6 and ts.ident.tolist() == [0, 0, 0, 1, 1, 1]
    assert ts.color.tolist() == [COLOR_NAMES.index("red")] * 6
    assert sorted(calls) == [("s0", 1), ("s0", 2), ("s1", 1), ("s1", 2)]


def test_half_precision_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = new_encoder(widths=TINY).eval()
    path = save_checkpoint(model, tmp_path / "m.pt", metrics={"x": 1}, half=True)
    loaded, payload = load_checkpoint(path)
    assert payload["metrics"] == {"x": 1} and payload["arch"]["widths"] == list(TINY)
    x = torch.rand(2, 3, 40, 40)
    with torch.inference_mode():
        assert torch.allclose(model(x), loaded(x), atol=2e-2)


def test_checkpoint_keeps_its_input_side_and_the_embedder_uses_it(tmp_path):
    from core.models.embed import Embedder

    torch.manual_seed(0)
    model = new_encoder(widths=TINY)
    model.image_size = 48
    path = save_checkpoint(model, tmp_path / "m.pt")
    loaded, payload = load_checkpoint(path)
    assert loaded.image_size == 48 and payload["preprocess"]["size"] == 48
    emb = Embedder("studio_encoder", weights=path)
    assert emb.preprocess.size == 48
    assert emb.transform(Image.new("RGB", (30, 70), "red")).shape == (3, 48, 48)
    payload.pop("preprocess")  # a checkpoint that does not say: the 128-pixel default
    torch.save(payload, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")[0].image_size == 128


def test_training_at_another_input_side(tmp_path):
    from core.models.recipes import DataSpec, train_encoder

    _write_class_folders(tmp_path / "photos", n=6)
    torch.manual_seed(0)
    init = save_checkpoint(new_encoder(widths=TINY), tmp_path / "init.pt")
    cfg = EncoderTrainConfig(epochs=1, batch_size=8, crop_size=40, attr_weight=0.5)
    summary = train_encoder("encoder", DataSpec(real=tmp_path / "photos", holdout=0.34), cfg,
                          tmp_path / "out", init=init, image_size=48)
    model, payload = load_checkpoint(summary["file"])
    assert model.image_size == 48 and payload["preprocess"]["size"] == 48
    assert set(model.attr_heads) == set(HEAD_ATTRS)  # a warm start with --attr-weight gains
    cfg.detail_weight = 0.5                             # the heads, with --detail-weight more
    again = train_encoder("encoder", DataSpec(real=tmp_path / "photos", holdout=0.34), cfg,
                        tmp_path / "out3", init=summary["file"])
    assert set(load_checkpoint(again["file"])[0].attr_heads) == {*HEAD_ATTRS, *DETAIL_NAMES}
    with pytest.raises(ValueError, match="smaller than --crop-size"):
        train_encoder("encoder", DataSpec(real=tmp_path / "photos", holdout=0.34), cfg,
                    tmp_path / "out2", init=init, image_size=32)


def test_heads_only_refit_keeps_the_trunk(tmp_path):
    from core.models.recipes import DataSpec, train_encoder

    _write_class_folders(tmp_path / "photos", n=6)
    torch.manual_seed(0)
    init = save_checkpoint(new_encoder(widths=TINY), tmp_path / "init.pt")
    cfg = EncoderTrainConfig(epochs=2, batch_size=8, heads_only=True, item_triplet_on="identity")
    summary = train_encoder("encoder", DataSpec(real=tmp_path / "photos", holdout=0.34), cfg,
                          tmp_path / "out", init=init)
    before, _ = load_checkpoint(init)
    after, _ = load_checkpoint(summary["file"])
    assert torch.allclose(before.trunk.stages[0].conv1.weight, after.trunk.stages[0].conv1.weight,
                          atol=1e-2)
    assert not torch.allclose(before.proj[1].weight, after.proj[1].weight, atol=1e-3)
    last, payload = load_checkpoint(tmp_path / "out" / "studio_encoder_last.pt")
    assert payload["metrics"]["epoch"] == 2  # the final epoch is kept beside the best one
    assert last.chunks == after.chunks


def test_demo_validation_measures_each_chunk_on_its_own():
    from core.models.recipes import validation_metrics
    from core.models.tune import chunk_features

    torch.manual_seed(0)
    model = new_encoder(widths=TINY).eval()
    n = 12  # 6 items x 2 pictures (variant 0, variant 1 alternate)
    cats = [CATEGORY_NAMES[i % 3] for i in range(6) for _ in range(2)]
    cols = torch.tensor([i % 2 for i in range(6) for _ in range(2)])
    demo = TensorSet(torch.randint(0, 255, (n, 3, 40, 40), dtype=torch.uint8),
                     torch.zeros(n, ATTR_DIM), cols, torch.arange(6).repeat_interleave(2),
                     torch.zeros(n, 1), cats)
    out = validation_metrics(model, {"demo": demo})
    z = chunk_features(model, demo.images).numpy()
    cat_chunk = z[:, :model.chunks[0]]
    q, g = np.arange(1, n, 2), np.arange(0, n, 2)
    sims = cat_chunk[q] @ cat_chunk[g].T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    expected = (np.array(cats)[g][top] == np.array(cats)[q][:, None]).mean()
    assert out["val_demo_p10_cat"] == pytest.approx(expected, abs=1e-3)
    assert 0 <= out["val_demo_r1_item"] <= 1 and 0 <= out["val_demo_p10_color"] <= 1
    assert out["score"] == pytest.approx(np.mean([out["val_demo_r1_item"],
                                                  out["val_demo_p10_cat"],
                                                  out["val_demo_p10_color"]]), abs=1e-3)


def test_train_average_means_the_weights_and_keeps_every_head(tmp_path, capsys):
    from core.cli import main

    torch.manual_seed(0)
    a = new_encoder(widths=TINY)
    add_attr_heads(a, HEAD_ATTRS)
    b = new_encoder(widths=TINY)
    add_attr_heads(b, HEAD_ATTRS + DETAIL_NAMES)
    with torch.no_grad():  # distinct BatchNorm statistics, as after training
        for m in b.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.fill_(1.0)
    pa = save_checkpoint(a, tmp_path / "a.pt", metrics={"epoch": 3})
    pb = save_checkpoint(b, tmp_path / "b.pt", metrics={"epoch": 9})
    out = tmp_path / "avg.pt"
    code = main(["train", "average", "--init", str(pa), str(pb), "--out", str(out), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and [s["epoch"] for s in report["averaged_from"]] == [3, 9]
    avg, payload = load_checkpoint(out)
    assert set(avg.attr_heads) == set(HEAD_ATTRS + DETAIL_NAMES)
    sa, sb, sm = a.state_dict(), b.state_dict(), avg.state_dict()
    for key in ("trunk.stem.0.weight", "trunk.stem.1.running_mean", "proj.1.weight"):
        assert torch.allclose(sm[key], (sa[key] + sb[key]) / 2, atol=2e-3), key
    assert torch.allclose(sm["trunk.stem.1.running_mean"], torch.full_like(sm[
        "trunk.stem.1.running_mean"], 0.5), atol=1e-3)
    detail = f"attr_heads.{DETAIL_NAMES[0]}.weight"  # only b has it: b's values
    assert torch.allclose(sm[detail], sb[detail], atol=2e-3)
    assert payload["averaged_from"][1]["file"] == "b.pt"

    other = save_checkpoint(new_encoder(widths=(8, 8, 16, 16)), tmp_path / "other.pt")
    assert main(["train", "average", "--init", str(pa), str(other), "--out",
                 str(tmp_path / "x.pt")]) == 2
    assert "another architecture" in capsys.readouterr().err
    assert main(["train", "average", "--init", str(pa), "--out", str(tmp_path / "x.pt")]) == 2
    assert not (tmp_path / "x.pt").exists()


def test_weight_average_means_floats_per_key_and_keeps_the_last_of_the_rest():
    from core.models.train import WeightAverage

    avg = WeightAverage()
    avg.add({"w": torch.tensor([1.0, 3.0]), "n": torch.tensor(1)}, epoch=2)
    avg.add({"w": torch.tensor([3.0, 5.0]), "n": torch.tensor(7),
             "head": torch.tensor([4.0])}, epoch=3)
    state = avg.state()
    assert state["w"].tolist() == [2.0, 4.0] and state["head"].tolist() == [4.0]
    assert state["n"].item() == 7 and avg.epochs == [2, 3]


def test_training_averages_the_end_of_the_run_into_an_avg_checkpoint(tmp_path, monkeypatch):
    import core.models.recipes as recipes
    from core.cli import main

    _write_class_folders(tmp_path / "photos", n=6)
    epoch_ends = []
    real_save = recipes.save_checkpoint

    def spy(model, path, **kw):
        if path.name.endswith("_last.pt"):
            epoch_ends.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return real_save(model, path, **kw)

    monkeypatch.setattr(recipes, "save_checkpoint", spy)
    torch.manual_seed(0)
    cfg = EncoderTrainConfig(epochs=3, batch_size=8, crop_size=24, lr=0.05, average_from=0.5)
    summary = recipes.train_encoder("encoder", recipes.DataSpec(real=tmp_path / "photos",
                                                              holdout=0.34),
                                  cfg, tmp_path / "out", widths=TINY)
    avg_path = tmp_path / "out" / "studio_encoder_avg.pt"
    avg, payload = load_checkpoint(avg_path)
    assert summary["epochs"] == 3 and payload["metrics"]["averaged_epochs"] == [2, 3]
    key = "trunk.stem.0.weight"  # epochs 2 and 3 (shares 2/3 and 3/3 >= 0.5), not epoch 1
    assert torch.allclose(avg.state_dict()[key], (epoch_ends[1][key] + epoch_ends[2][key]) / 2,
                          atol=2e-3)
    assert not torch.allclose(avg.state_dict()[key], epoch_ends[2][key], atol=2e-3)
    assert main(["train", "encoder", "--data-real", str(tmp_path / "photos"),
                 "--average-from", "1.5", "--out", str(tmp_path / "x")]) == 2


def test_tail_only_fine_tuning_of_a_lite_trunk_keeps_the_frozen_blocks(tmp_path):
    from core.models.recipes import DataSpec, train_encoder

    _write_class_folders(tmp_path / "photos", n=6)
    torch.manual_seed(0)
    # random init stands in for the ImageNet weights (pretrained=True reads the package's file)
    init = save_checkpoint(new_encoder(trunk="efficientnet_lite0", cut=14), tmp_path / "init.pt")
    cfg = EncoderTrainConfig(epochs=1, batch_size=8, tail_only=True, cache_views=2,
                      trunk_lr_scale=0.3, item_triplet_on="identity")
    summary = train_encoder("encoder", DataSpec(real=tmp_path / "photos", holdout=0.34), cfg,
                          tmp_path / "out", init=init, image_size=64)
    assert summary["file"].endswith("studio_lite.pt") and summary["epochs"] == 1
    before, _ = load_checkpoint(init)
    after, _ = load_checkpoint(summary["file"])
    net_b, net_a = before.trunk.net, after.trunk.net
    assert after.trunk.cut == 14 and after.image_size == 64
    assert torch.allclose(net_b._blocks[13]._project_conv.weight,
                          net_a._blocks[13]._project_conv.weight, atol=1e-3)  # frozen
    assert not torch.allclose(net_b._blocks[15]._project_conv.weight,
                              net_a._blocks[15]._project_conv.weight, atol=1e-4)  # fine-tuned
    assert 0.0 <= summary["best"]["val_photo_top1"] <= 1.0


def test_caching_a_split_trunk_reports_each_batch_and_a_raise_ends_it(tmp_path):
    from core.models.recipes import cached_sets
    from core.training import StopTraining

    _write_class_folders(tmp_path / "photos", n=40)
    ts = photo_set(tmp_path / "photos", 32)
    model = new_encoder(trunk="efficientnet_lite0", cut=2)
    model.image_size = 32
    cfg = EncoderTrainConfig(tail_only=True, cache_views=2)
    sets = ({"train": ts}, {"val": ts.subset(range(10))})
    seen = []
    train, val = cached_sets(model, *sets, cfg, warm=True,
                             progress=lambda done, total: seen.append((done, total)))
    # batches of 64: the 80 photos' plain view, their augmented view, then 10 validation ones
    assert seen == [(64, 170), (80, 170), (144, 170), (160, 170), (170, 170)]
    assert len(train["train"]) == 160 and len(val["val"]) == 10

    def stop(done: int, total: int) -> None:
        raise StopTraining("requested", f"stopped at {done} of {total}")

    with pytest.raises(StopTraining, match="stopped at 64 of 170"):
        cached_sets(model, *sets, cfg, warm=True, progress=stop)


def test_tail_only_needs_a_split_trunk(tmp_path):
    from core.models.recipes import DataSpec, train_encoder

    _write_class_folders(tmp_path / "photos", n=4)
    cfg = EncoderTrainConfig(epochs=1, batch_size=8, tail_only=True)
    with pytest.raises(ValueError, match="--tail-only"):
        train_encoder("encoder", DataSpec(real=tmp_path / "photos", holdout=0.34), cfg,
                    tmp_path / "out", widths=TINY)


def test_labelled_photos_carry_colour_and_pattern_and_stay_class_triplets(tmp_path):
    from core.models.data import PHOTO_IDENT_OFFSET, read_photo_labels

    _write_class_folders(tmp_path / "photos", n=2)
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"labels": {
        "pants/0.jpg": {"color": "navy", "pattern": "denim"},
        "shoes/1.jpg": {"color": None, "skip": True}}}))
    ts = photo_set(tmp_path / "photos", 32, ident_offset=PHOTO_IDENT_OFFSET,
                   labels=read_photo_labels([labels]))
    assert ts.color.tolist() == [COLOR_NAMES.index("navy"), -1, -1, -1]
    assert attr_targets(ts.attrs)["pattern"].tolist()[:2] == [ATTR_VOCAB["pattern"].index(
        "denim"), -1]
    torch.manual_seed(0)
    model = new_encoder(widths=TINY, attr_heads=True)
    cfg = EncoderTrainConfig(batch_size=4, crop_size=24)
    loss, parts = batch_loss(model, ts, cfg, PreprocessCfg(size=32), torch.Generator())
    assert torch.isfinite(loss) and "color" in parts and "attrs" not in parts  # attr_weight 0
    with pytest.raises(ValueError, match="not a colour labels file"):
        read_photo_labels([tmp_path / "photos" / "pants" / "0.jpg"])
