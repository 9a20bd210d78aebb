"""AppTest of the Models page: the listing, a run started from the form, a second start."""

from __future__ import annotations

import time

import pytest

from core.modelhub import jobs
from tests.modelhub_helpers import tiny_hub


@pytest.fixture
def page(app_test, settings, repo):
    tiny_hub(settings, repo, 30, 48)
    return app_test


def test_lists_models_with_the_active_encoder_and_vectors(page):
    at = page("models.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    active = table[table["active"] == "✅"]
    assert list(active["id"]) == ["studio_encoder"]
    assert int(active["vectors"].iloc[0]) == 30
    assert "Active image encoder: **studio_encoder**" in at.caption[0].value
    assert at.subheader[0].value == "Fine-tune studio_encoder on your catalog"
    assert list(table["id"])[0] == "studio_encoder"  # the active one first
    assert "missing" not in set(table["weights"])  # uninstalled encoders behind a toggle
    details = at.selectbox(key="models_show")
    assert details.value == "studio_encoder"  # the active one, not the first name known
    assert "resnet50" not in details.options  # only the listed ones
    at.toggle(key="models_with_missing").set_value(True).run()
    assert "missing" in set(at.dataframe[0].value["weights"])
    at.selectbox(key="models_show").select("resnet50").run()
    assert not at.exception and not at.json  # no empty record shown
    assert any("no training record here" in c.value for c in at.caption)


def test_empty_catalog_says_so(app_test):
    at = app_test("models.py").run()
    assert not at.exception and "catalog is empty" in at.info[0].value


@pytest.mark.slow
def test_starts_a_run_shows_it_refuses_a_second_and_stops(page, settings):
    at = page("models.py").run()
    at.number_input(key="models_batch").set_value(8)
    at.number_input(key="models_epochs").set_value(200)
    at = _submit(at)
    job = at.session_state["models_job"]
    assert jobs.job_status(settings.data_dir, job)["state"] in jobs.LIVE
    assert any(f"Run {job}" in m.value for m in at.markdown)
    at = _submit(at)  # a second start while the first runs
    assert any("already going" in w.value for w in at.warning)
    assert at.session_state["models_job"] == job
    _wait(settings, job, lambda s: s.get("history"))
    at = at.run()
    assert at.get("plotly_chart")  # the curves of the finished epochs
    at.button(key="models_stop").click().run()
    status = _wait(settings, job, lambda s: s["state"] not in jobs.LIVE)
    assert status["state"] == "stopped" and "best epoch kept" in status["message"]
    at = at.run()
    assert "studio_encoder-ft1" in list(at.dataframe[0].value["id"])
    assert any("Stopped" in p.proto.text for p in at.get("progress"))


def _wait(settings, job, ready, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jobs.job_status(settings.data_dir, job)
        if ready(status):
            return status
        time.sleep(0.3)
    pytest.fail(f"job {job}: {jobs.job_status(settings.data_dir, job)}")


def _submit(at):
    form_button = next(b for b in at.button if b.label == "Start fine-tuning")
    return form_button.click().run()
