"""Model hub building blocks without a database: held-out split, model folders, the active
pointer, the trainer's liveness check, what the page shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import load_settings, read_active_pointer
from core.modelhub import store, view
from core.modelhub.activate import write_pointer
from core.modelhub.data import CatalogRow, DataError, split_rows
from core.modelhub.finetune import FineTuneParams
from core.modelhub.jobs import pid_alive


def rows(n: int, labelled: int) -> list[CatalogRow]:
    return [CatalogRow(f"S{i:03d}", Path(f"/x/{i}.jpg"), "dress" if i < labelled else None,
                       "red", {}) for i in range(n)]


def test_holdout_is_labelled_stable_and_at_least_the_minimum():
    train, held = split_rows(rows(200, 150))
    assert len(held) == 15 and all(r.category for r in held)
    assert {r.sku for r in held} == {r.sku for r in split_rows(rows(200, 150))[1]}
    assert len(split_rows(rows(30, 30))[1]) == 8 and len(train) == 185


def test_too_few_items_names_the_numbers():
    with pytest.raises(DataError, match="at least 24 items.*the catalog has 20 with images"):
        split_rows(rows(20, 20))
    with pytest.raises(DataError, match="8 of them with a category.*3 with a category"):
        split_rows(rows(100, 3))
    with pytest.raises(DataError, match="no catalog item has an image"):
        split_rows([])


@pytest.mark.parametrize("bad", [{"lr": float("nan")}, {"lr": 0}, {"epochs": 0},
                                 {"image_size": 16}, {"max_minutes": -1}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(DataError):
        FineTuneParams(**bad).check()


def test_publish_writes_a_whole_folder_and_versions_go_up(tmp_path):
    ckpt = tmp_path / "best.pt"
    ckpt.write_bytes(b"weights")
    assert store.next_model_id(tmp_path, "studio_lite") == "studio_lite-ft1"
    folder = store.publish_model(tmp_path, "studio_lite-ft1", ckpt, {"family": "studio_lite"},
                                 ["A", "B"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["id"] == "studio_lite-ft1" and len(manifest["sha256"]) == 64
    assert store.holdout_skus(tmp_path, "studio_lite-ft1") == ["A", "B"]
    assert not list((tmp_path / "models").glob(".*"))  # no staging left behind
    assert store.next_model_id(tmp_path, "studio_lite") == "studio_lite-ft2"
    with pytest.raises(store.ModelError, match="exists"):
        store.publish_model(tmp_path, "studio_lite-ft1", ckpt, {}, [])
    with pytest.raises(store.ModelError, match="active encoder"):
        store.delete_model(tmp_path, "studio_lite-ft1", "studio_lite-ft1")
    with pytest.raises(store.ModelError, match="cannot be deleted"):
        store.delete_model(tmp_path, "studio_lite", "x")
    store.delete_model(tmp_path, "studio_lite-ft1", "studio_lite")
    assert store.list_user_models(tmp_path) == []


def test_the_active_pointer_overrides_backbone_while_its_model_exists(tmp_path):
    cfg = load_settings(env_file=tmp_path / "none.env", DATA_DIR=str(tmp_path),
                        BACKBONE="studio_lite")
    assert cfg.backbone == "studio_lite" and read_active_pointer(tmp_path) is None
    write_pointer(tmp_path, "studio_encoder")
    assert cfg.with_active_model().backbone == "studio_encoder"
    write_pointer(tmp_path, "studio_lite-ft4")  # a user model whose folder is missing
    assert cfg.with_active_model().backbone == "studio_lite"
    (tmp_path / "models" / "studio_lite-ft4").mkdir(parents=True)
    (tmp_path / "models" / "studio_lite-ft4" / "model.pt").write_bytes(b"w")
    assert load_settings(env_file=tmp_path / "none.env", DATA_DIR=str(tmp_path)).backbone \
        == "studio_lite-ft4"


def test_a_dead_or_zombie_process_is_not_alive():
    assert pid_alive(os.getpid())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    import time

    time.sleep(1.0)  # exited, not reaped yet: a zombie
    assert not pid_alive(proc.pid)
    proc.wait()
    assert not pid_alive(proc.pid) and not pid_alive(None)


def test_progress_line_eta_and_curves():
    status = {"state": "running", "epoch": 2, "epochs": 3, "step": 5, "steps": 10,
              "progress": 0.5, "eta_s": 125}
    frac, line = view.progress_of(status)
    assert frac == 0.5 and "epoch 2/3, step 5/10" in line and "2 min 05 s left" in line
    assert view.progress_of({"state": "lost", "message": "gone"})[1].endswith("gone")
    fig = view.curves_figure([{"epoch": 1, "train_loss": 2.0, "val_demo_r1_item": 0.5},
                              {"epoch": 2, "train_loss": 1.5, "val_demo_r1_item": 0.6}])
    assert [t.name for t in fig.data] == ["train_loss", "R@1 exact item"]
    assert list(fig.data[0].y) == [2.0, 1.5]


def test_caching_progress_is_written_with_an_eta_and_shown(tmp_path, monkeypatch):
    import signal
    import time

    from core.modelhub.jobs import StatusReporter, status_path

    monkeypatch.setattr(signal, "signal", lambda *_: None)  # the trainer's handler, not ours
    status_path(tmp_path, "j1").parent.mkdir(parents=True)
    reporter = StatusReporter(tmp_path, "j1", epochs=1, budget_minutes=0)
    reporter.phase("caching", "computing the frozen trunk's features of the photos")
    reporter.t0 = time.monotonic() - 10  # 10 s into the caching
    reporter.cached(1200, 3600)
    status = store.read_json(status_path(tmp_path, "j1"))
    assert (status["cached"], status["cache_total"]) == (1200, 3600)
    assert status["progress"] == pytest.approx(1 / 3, abs=1e-3)
    assert status["eta_s"] == pytest.approx(20, abs=0.5)
    frac, line = view.progress_of(status)
    assert frac == pytest.approx(1 / 3, abs=1e-3)
    assert line == "Caching the frozen trunk's features… 1,200/3,600 images · about 20 s left"
    # with a time budget that ends sooner, the ETA is what is left of it (the run ends there)
    reporter.budget, reporter.started, reporter._last = 15.0, reporter.t0, 0.0
    reporter.cached(1300, 3600)
    assert store.read_json(status_path(tmp_path, "j1"))["eta_s"] == pytest.approx(5, abs=0.5)


def test_comparison_rows_side_by_side():
    result = {"models": ["a", "b"], "figures": {
        "a": {"p10_category": 0.5, "p10_colour": 0.4, "r1_item": 0.7, "top1_category": None},
        "b": {"p10_category": 0.6, "p10_colour": 0.4, "r1_item": 0.9, "top1_category": 0.8}}}
    table = {r["figure"]: r for r in view.comparison_rows(result)}
    assert table["P@10 same category"]["change"] == 0.1
    assert table["classifier top-1"]["a"] == "—" and table["classifier top-1"]["b"] == 0.8


def test_the_models_table_puts_the_active_and_usable_encoders_first():
    from core.modelhub.view import models_table

    def row(id_, active=False, available=True, vectors=0):
        return {"id": id_, "active": active, "available": available, "vectors": vectors,
                "kind": "image_encoder", "source": "registry", "created": None, "metrics": {}}

    rows = [row("resnet50", available=False), row("lite0"), row("ft1", vectors=5),
            row("studio_lite", active=True, vectors=30)]
    assert [r["id"] for r in models_table(rows)] == ["studio_lite", "ft1", "lite0", "resnet50"]
    assert [r["id"] for r in models_table(rows, with_missing=False)] == [
        "studio_lite", "ft1", "lite0"]
    compat = {**row("compat"), "kind": "outfit_model", "vectors": None, "metrics":
              {"cv_accuracy": 0.6017628, "epochs": 12}, "created": "2026-12-05T14:03:11+00:00"}
    [shown] = models_table([compat])
    assert shown["vectors"] == "" and shown["created"] == "2026-12-05 14:03"
    assert shown["metrics"] == "cv_accuracy 0.602, epochs 12"
    assert models_table([row("big", vectors=12000)])[0]["vectors"] == "12,000"


def test_reading_the_photos_shows_its_count_on_the_page():
    from core.modelhub.view import progress_of

    _, line = progress_of({"state": "loading", "cached": 100, "cache_total": 300, "eta_s": 10})
    assert line == "Loading the encoder and photos… 100/300 images · about 10 s left"


def test_reading_many_photos_reports_and_can_be_stopped(tmp_path):
    from PIL import Image

    from core.models.data import LOAD_REPORT_EVERY, load_many

    paths = []
    for i in range(LOAD_REPORT_EVERY + 6):
        paths.append(tmp_path / f"p{i}.png")
        Image.new("RGB", (8, 8), (i, 0, 0)).save(paths[-1])
    seen = []
    out = load_many(paths, 8, progress=lambda done, total: seen.append((done, total)))
    assert out.shape == (len(paths), 3, 8, 8)
    assert seen == [(LOAD_REPORT_EVERY, len(paths)), (len(paths), len(paths))]

    def stop(done, total):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        load_many(paths, 8, progress=stop)


def test_an_encoder_row_shows_its_headline_photo_figures():
    from core.modelhub.listing import _row

    entry = {"metrics": {"classify:clothing-small": {"top1": 0.9355, "n": 341},
                         "search:clothing-small": {"p10_same_class": 0.9279},
                         "search:demo": {"r1_item": 0.6}, "epochs": 6}}
    row = _row("studio_lite", "image_encoder", "shipped", True, True, entry, "")
    assert row["metrics"] == {"photo_top1": 0.9355, "photo_p10_same_class": 0.9279, "epochs": 6}
    assert _row("x", "image_encoder", "user", False, True, {}, "")["metrics"] == {}
