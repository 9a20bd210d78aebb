"""Model hub on the embedded database: fine-tune a tiny encoder on a tiny catalog, list,
compare, activate while searches run, stop (also while caching a split trunk's features), the
time budget, divergence, a killed trainer and its reaping, bad input."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from core.modelhub import jobs, store
from core.modelhub.activate import activate, active_model, stale_dependents
from core.modelhub.compare import compare
from core.modelhub.data import DataError
from core.modelhub.finetune import Diverged, FineTuneParams, Reporter, fine_tune
from core.modelhub.listing import list_models
from tests.modelhub_helpers import split_hub, tiny_hub


@pytest.fixture
def hub(settings, repo):
    """A tiny shipped studio_encoder, a 30-item catalog embedded with it."""
    tiny_hub(settings, repo, 30, 48)
    store.attach(settings.data_dir)
    return settings


@pytest.fixture
def split(settings, repo):
    """A tiny encoder on a split trunk in the studio_encoder slot, a 30-item catalog."""
    split_hub(settings, repo, 30, 48)
    store.attach(settings.data_dir)
    return settings


def tiny_run(settings, repo, tmp_path, reporter=None, **kw):
    params = FineTuneParams(**{"epochs": 1, "batch_size": 8, "lr": 1e-3, "device": "cpu",
                               "threads": 1, **kw})
    return fine_tune(settings, repo, params, tmp_path / "job", reporter)


class Recorder(Reporter):
    """The run's phases, photos read and caching counts; asks to stop once ``stop_at`` images
    are cached (or, ``stop_reading``, once any photo is read)."""

    def __init__(self, stop_at: int | None = None, stop_reading: bool = False):
        self.stop_at, self.phases, self.counts, self.steps = stop_at, [], [], 0
        self.stop_reading, self.loads = stop_reading, []

    def phase(self, state: str, message: str = "") -> None:
        self.phases.append(state)

    def loaded(self, done: int, total: int) -> None:
        self.loads.append((done, total))

    def cached(self, done: int, total: int) -> None:
        self.counts.append((done, total))

    def step(self, epoch: int, step: int, steps: int) -> None:
        self.steps += 1

    def stop_requested(self) -> bool:
        if self.stop_reading and self.loads:
            return True
        return self.stop_at is not None and bool(self.counts) and \
            self.counts[-1][0] >= self.stop_at


def test_caching_a_split_trunk_reports_its_progress_then_trains(split, repo, tmp_path):
    rec = Recorder()
    result = tiny_run(split, repo, tmp_path, rec)
    # 22 training items x 2 views, then 8 held-out items as 16 validation rows
    assert rec.phases == ["loading", "caching", "running"]
    assert rec.loads == [(22, 30), (30, 30)]  # the 22 training photos, then the 8 held out
    assert rec.counts == [(22, 60), (44, 60), (60, 60)] and rec.steps > 0
    assert result["model_id"] == "studio_encoder-ft1"
    assert store.user_manifest("studio_encoder-ft1")["settings"]["tail_only"] is True


def test_a_stop_while_caching_ends_the_run_there_and_writes_no_model(split, repo, tmp_path):
    rec = Recorder(stop_at=1)
    result = tiny_run(split, repo, tmp_path, rec)
    assert rec.phases == ["loading", "caching"] and rec.counts == [(22, 60)]  # no training
    assert result["model_id"] is None
    assert result["stopped"] == "stopped on request while caching features (22 of 60 images)"
    assert result["message"] == ("on request while caching features (22 of 60 images): no "
                                 "model was written")  # the page: "Stopped. on request …"
    assert store.list_user_models(split.data_dir) == []
    assert not (tmp_path / "job" / "best.pt").exists()


def test_the_time_budget_counts_reading_the_photos(split, repo, tmp_path):
    rec = Recorder()
    result = tiny_run(split, repo, tmp_path, rec, max_minutes=1e-6)
    assert rec.phases == ["loading"] and rec.loads == [(22, 30)] and not rec.counts
    assert result["model_id"] is None
    assert result["stopped"] == ("stopped by the time budget (1e-06 min) while reading the "
                                 "photos (22 of 30 images)")
    assert result["message"].endswith("(22 of 30 images): no model was written")
    assert store.list_user_models(split.data_dir) == []


def test_a_stop_while_reading_the_photos_ends_the_run_there(split, repo, tmp_path):
    rec = Recorder(stop_reading=True)
    result = tiny_run(split, repo, tmp_path, rec)
    assert rec.phases == ["loading"] and rec.loads == [(22, 30)] and not rec.counts
    assert result["stopped"] == "stopped on request while reading the photos (22 of 30 images)"
    assert result["model_id"] is None and store.list_user_models(split.data_dir) == []


def test_training_has_what_is_left_of_the_budget_and_ends_within_an_epoch(hub, repo, tmp_path):
    # 3 s: reading 30 tiny photos takes far less, 200 epochs far more
    result = tiny_run(hub, repo, tmp_path, epochs=200, max_minutes=0.05)
    assert result["stopped"] == "time budget of 0.05 min reached"  # the user's budget
    assert 1 <= len(result["epochs"]) < 200 and result["model_id"] == "studio_encoder-ft1"


def test_fine_tune_writes_a_versioned_model_with_manifest(hub, repo, tmp_path):
    result = tiny_run(hub, repo, tmp_path, epochs=2)
    assert result["model_id"] == "studio_encoder-ft1"
    folder = hub.data_dir / "models" / "studio_encoder-ft1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["base"] == "studio_encoder" and manifest["family"] == "studio_encoder"
    assert manifest["data"]["items"] == 30 and manifest["data"]["held_out"] == 8
    assert manifest["settings"]["epochs"] == 2 and manifest["created"]
    assert len(manifest["history"]) == 2
    assert 0.0 <= manifest["metrics"]["val_r1_item"] <= 1.0
    assert len(json.loads((folder / "holdout.json").read_text())["skus"]) == 8
    # the shipped file is untouched, a second run gets the next version
    assert tiny_run(hub, repo, tmp_path / "b")["model_id"] == "studio_encoder-ft2"
    rows = {r["id"]: r for r in list_models(hub, repo)}
    assert rows["studio_encoder-ft1"]["source"] == "user"
    assert [r["id"] for r in rows.values() if r["kind"] == "image_encoder" and r["active"]] \
        == ["studio_encoder"]
    assert rows["studio_encoder"]["vectors"] == 30


def test_too_few_items_says_how_many_are_needed(settings, repo, small_catalog, tmp_path):
    small_catalog(10, 40)
    with pytest.raises(DataError, match="at least 24 items"):
        tiny_run(settings, repo, tmp_path, base="studio_encoder")


def test_no_images_is_refused(hub, repo, tmp_path):
    for p in (hub.data_dir / "images").iterdir():
        p.unlink()
    with pytest.raises(DataError, match="no catalog item has an image"):
        tiny_run(hub, repo, tmp_path)


def test_cuda_without_gpu_is_a_clear_message(hub, repo, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(DataError, match="sees no GPU"):
        tiny_run(hub, repo, tmp_path, device="cuda")


def test_divergence_stops_and_keeps_the_old_model(hub, repo, tmp_path, monkeypatch):
    from core.models import train

    real = train.batch_loss
    calls = []

    def blows_up(*args, **kwargs):  # the loss turns NaN on the third step
        loss, parts = real(*args, **kwargs)
        calls.append(1)
        return (loss * float("nan") if len(calls) >= 3 else loss), parts

    monkeypatch.setattr(train, "batch_loss", blows_up)
    with pytest.raises(Diverged, match="NaN/inf in epoch 1"):
        tiny_run(hub, repo, tmp_path, lr=1.0)
    assert store.list_user_models(hub.data_dir) == []
    assert active_model(hub) == "studio_encoder"


def test_activation_swaps_while_searches_keep_answering(hub, repo, tmp_path):
    from core.config import read_active_pointer
    from core.search.pipeline import SearchEngine

    new = tiny_run(hub, repo, tmp_path)["model_id"]
    answers, seen, stop = [], set(), threading.Event()

    def searcher():
        while not stop.is_set():
            current = hub.with_active_model()
            engine = SearchEngine(current)
            res = engine.more_like_this(repo, "T001", k=5)
            answers.append(len(res.results))
            seen.add(engine.model_id)

    pointer_during = []
    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        result = activate(hub, repo, new, progress=lambda d, t: pointer_during.append(
            read_active_pointer(hub.data_dir)))
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join(30)
    assert pointer_during and set(pointer_during) == {None}  # the old model until the swap
    assert result["vectors"] == 30 and result["previous"] == "studio_encoder"
    assert active_model(hub) == new and hub.with_active_model().backbone == new
    assert answers and min(answers) > 0
    assert seen == {"studio_encoder", new}
    assert repo.vector_count("studio_encoder") == 30  # the old vectors are kept
    rows = list_models(hub, repo)
    assert [r["id"] for r in rows if r["kind"] == "image_encoder" and r["active"]] == [new]
    with pytest.raises(store.ModelError, match="active"):
        store.delete_model(hub.data_dir, new, active_model(hub))


def test_activation_packs_the_new_vectors_before_warming_the_index(hub, repo, tmp_path,
                                                                   monkeypatch):
    import core.index.store as index_store
    from core.storage.vectorsnapshot import snapshot_headers

    new = tiny_run(hub, repo, tmp_path)["model_id"]
    assert snapshot_headers(repo, new) == []
    sources = []
    real = index_store.cached_vectors

    def recorded(*args, **kwargs):
        got = real(*args, **kwargs)
        sources.append(got[2])
        return got

    monkeypatch.setattr(index_store, "cached_vectors", recorded)
    result = activate(hub, repo, new)
    assert result["embedded"] == 30
    [head] = snapshot_headers(repo, new)
    assert (head["count"], head["vectors_version"]) == (30, repo.vectors_version(new))
    assert sources == ["disk"]  # the index warm-up read what packing cached, not the documents


def test_compare_gives_both_models_figures_and_examples(hub, repo, tmp_path):
    new = tiny_run(hub, repo, tmp_path)["model_id"]
    result = compare(hub, repo, "studio_encoder", new)
    assert result["n"] == 8 and set(result["figures"]) == {"studio_encoder", new}
    for fig in result["figures"].values():
        assert set(fig) == {"p10_category", "p10_colour", "r1_item", "top1_category"}
        assert 0.0 <= fig["r1_item"] <= 1.0 and fig["top1_category"] is not None
    assert len(result["queries"]) == 3
    assert all(len(ex) == 3 and len(ex[0]) == 5 for ex in result["examples"].values())


def test_dependents_trained_on_other_vectors_are_stale(hub, repo, tmp_path):
    from core.models.manifest import image_weights_sha256, stale_warning

    (hub.weights_dir / "compat.pt").write_bytes(b"x")
    manifest = json.loads((hub.weights_dir / "manifest.json").read_text())
    sha = manifest["files"]["studio_encoder.pt"]["sha256"]
    manifest["files"]["compat.pt"] = {"data": {"model_id": "studio_encoder",
                                               "image_weights_sha256": sha}}
    (hub.weights_dir / "manifest.json").write_text(json.dumps(manifest))
    assert stale_dependents(hub) == []
    new = tiny_run(hub, repo, tmp_path)["model_id"]
    result = activate(hub, repo, new)
    assert result["stale"][0]["command"] == f"python -m core train compat --model-id {new}"
    user_sha = image_weights_sha256(hub.weights_dir, new)
    assert user_sha == store.user_manifest(new)["sha256"]
    assert stale_warning(hub.weights_dir, new, {"data": {"image_weights_sha256": sha}},
                         "outfit model", "train compat")


@pytest.mark.slow
def test_background_job_runs_and_a_second_start_is_refused(hub, tmp_path):
    job = jobs.start_job(hub, FineTuneParams(epochs=2, batch_size=8, device="cpu"))
    with pytest.raises(jobs.JobRunning) as err:
        jobs.start_job(hub, FineTuneParams(epochs=1, batch_size=8, device="cpu"))
    assert err.value.job_id == job
    status = _wait(hub, job, lambda s: s["state"] not in jobs.LIVE, 180)
    assert status["state"] == "done", status
    assert status["model_id"] == "studio_encoder-ft1" and len(status["history"]) == 2
    assert status["progress"] == 1.0


@pytest.mark.slow
def test_killed_trainer_is_noticed_and_writes_nothing(hub, tmp_path):
    job = jobs.start_job(hub, FineTuneParams(epochs=50, batch_size=8, device="cpu"))
    status = _wait(hub, job, lambda s: s.get("state") == "running" and s.get("step"), 180)
    os.kill(status["pid"], signal.SIGKILL)
    status = _wait(hub, job, lambda s: s["state"] != "running", 30)
    assert status["state"] == "lost" and "killed or crashed" in status["message"]
    assert store.list_user_models(hub.data_dir) == []
    assert jobs.running_job(hub.data_dir) is None


@pytest.mark.slow
def test_stop_keeps_the_best_epoch(hub, tmp_path):
    job = jobs.start_job(hub, FineTuneParams(epochs=200, batch_size=8, device="cpu"))
    _wait(hub, job, lambda s: len(s.get("history") or []) >= 1, 180)
    assert jobs.stop_job(hub.data_dir, job)
    status = _wait(hub, job, lambda s: s["state"] not in jobs.LIVE, 60)
    assert status["state"] == "stopped" and status["model_id"] == "studio_encoder-ft1"
    assert "best epoch kept" in status["message"]


@pytest.mark.slow
def test_an_ended_trainer_process_is_reaped(settings):
    job = jobs.start_job(settings, FineTuneParams(epochs=1, batch_size=8, device="cpu"))
    status = _wait(settings, job, lambda s: s["state"] not in jobs.LIVE, 120)
    assert status["state"] == "failed" and "no catalog item has an image" in status["message"]
    proc = f"/proc/{status['pid']}"
    deadline = time.monotonic() + 20
    while os.path.exists(proc) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(proc)  # waited for by the starting process: no zombie left


def _wait(settings, job, ready, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jobs.job_status(settings.data_dir, job)
        if status and ready(status):
            return status
        time.sleep(0.3)
    log = (jobs.jobs_dir(settings.data_dir) / job / "log.txt").read_text()[-3000:]
    pytest.fail(f"job {job} did not get there: {jobs.job_status(settings.data_dir, job)}\n{log}")


def test_cli_list_show_activate_delete(hub, repo, tmp_path, cli_settings, capsys):
    from core.cli import main

    new = tiny_run(hub, repo, tmp_path)["model_id"]
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    encoders = [r for r in listed if r["kind"] == "image_encoder"]
    assert [r["id"] for r in encoders if r["active"]] == ["studio_encoder"]
    mine = next(r for r in listed if r["id"] == new)
    assert mine["vectors"] == 0 and "val_r1_item" in mine["metrics"]
    assert main(["models", "show", new]) == 0
    assert json.loads(capsys.readouterr().out)["manifest"]["base"] == "studio_encoder"
    assert main(["models", "activate", new, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vectors"] == 30
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed if r["kind"] == "image_encoder" and r["active"]] == [new]
    assert main(["models", "delete", new]) == 2
    assert "active encoder" in capsys.readouterr().err
    assert main(["models", "activate", "studio_encoder"]) == 0
    assert main(["models", "delete", new]) == 0
    assert main(["models", "show", "nope-ft9"]) == 2


def _class_folders(hub, repo, root):
    """The catalog's photos as class folders: one class per category, plus a class the
    catalog does not know (its photos train as unlabelled)."""
    import shutil

    for i, item in enumerate(repo.iter_items()):
        cls = "widgets" if i % 6 == 5 else item.category
        (root / "train" / cls).mkdir(parents=True, exist_ok=True)
        shutil.copy(hub.data_dir / item.image_path, root / "train" / cls / f"{item.sku}.jpg")
    return root


def test_fine_tune_on_a_folder_of_class_folders(hub, repo, tmp_path):
    from core.modelhub.data import folder_rows

    root = _class_folders(hub, repo, tmp_path / "photos")
    rows = folder_rows(root)
    assert len(rows) == 30 and sum(r.labelled for r in rows) == 25
    assert {r.sku.split("/")[0] for r in rows} == {"train"}
    result = tiny_run(hub, repo, tmp_path, folder=str(root))
    manifest = store.user_manifest(result["model_id"])
    assert manifest["data"]["source"] == str(root) and manifest["data"]["items"] == 30
    assert "class folders" in manifest["data"]["supervision"]
    held = store.holdout_skus(hub.data_dir, result["model_id"])
    assert len(held) == 8 and all("widgets" not in s for s in held)  # held out: labelled
    cmp = compare(hub, repo, "studio_encoder", result["model_id"])
    assert cmp["n"] == 8 and all(os.path.isfile(cmp["paths"][s]) for s in cmp["queries"])
    assert all(0.0 <= f["top1_category"] <= 1.0 for f in cmp["figures"].values())


def test_a_bad_training_folder_is_refused_before_starting(hub, tmp_path):
    from core.modelhub.data import check_folder

    with pytest.raises(DataError, match="no such folder"):
        check_folder(tmp_path / "nope")
    (tmp_path / "empty" / "dress").mkdir(parents=True)
    with pytest.raises(DataError, match="no images in class sub-folders"):
        check_folder(tmp_path / "empty")
    with pytest.raises(DataError, match="no images in class sub-folders"):
        jobs.start_job(hub, FineTuneParams(epochs=1, device="cpu",
                                           folder=str(tmp_path / "empty")))
    assert jobs.latest_job(hub.data_dir) is None  # nothing was started


def test_activation_re_tags_what_the_old_encoder_predicted(hub, repo, tmp_path):
    from core.models.embed import Embedder
    from core.storage import Item
    from core.tagging.catalog import tag_catalog

    first = next(repo.iter_items())
    repo.upsert_items([Item(sku="BARE1", image_path=first.image_path, hash="bare1",
                            attrs={"color": "red"}, source="test")])
    tag_catalog(repo, hub, Embedder("studio_encoder", hub))
    before = repo.get_items(["BARE1"])[0].tags["category"]
    assert before["source"] == "predicted"
    new = tiny_run(hub, repo, tmp_path)["model_id"]
    result = activate(hub, repo, new)
    assert result["retagged"] >= 1
    after = repo.get_items(["BARE1"])[0]
    assert after.tags["category"]["model"] != before["model"]
    assert after.attrs["color"] == "red"  # supplied: untouched
