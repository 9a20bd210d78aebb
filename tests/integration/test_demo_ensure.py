"""`demo ensure`, the first-run set-up of run_app.sh and the Home page button: build, ingest,
embed, read the outfit colours and draw the Explore page's default map once; a second run
changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.bootstrap import STAGES
from core.models.studio import new_encoder, save_checkpoint


def _run(env, *args):
    run = subprocess.run([sys.executable, "-m", "core", "demo", "ensure", "--items", "30",
                          "--json", *args], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    return run


def _ensure(env, *args):
    return json.loads(_run(env, *args).stdout)


@pytest.mark.slow
def test_first_run_sets_everything_up_once(settings, env_for, repo):
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1), embed_dim=32),
                    settings.weights_dir / "studio_encoder.pt")
    env = env_for()
    run = _run(env)
    first = json.loads(run.stdout)
    # stderr is a pipe here: one line per stage start and end, no bars or cursor escapes
    assert "\r" not in run.stderr and "\x1b[" not in run.stderr
    steps = [line.split(" ", 2)[:2] for line in run.stderr.splitlines() if line.startswith("[")]
    assert steps == [[f"[{i}/6]", stage] for i, stage in enumerate(STAGES, 1)
                     for _ in (0, 1)]
    assert first["built"] and first["added"] == 30 and first["embedded"] == 30
    assert set(first["seconds"]) == {"build", "ingest", "embed", "colours", "map"}
    from core.explore.service import MapParams, build_map

    assert build_map(repo, "studio_encoder", MapParams()).cached  # the page's first visit
    cache = settings.data_dir / "cache" / "outfits" / "histograms.npz"
    assert cache.is_file() and repo.vector_count("studio_encoder") == 30
    from core.storage.vectorsnapshot import snapshot_headers

    [head] = snapshot_headers(repo, "studio_encoder")  # packed: a new host reads a few blocks
    assert (head["count"], head["vectors_version"]) == (30, repo.vectors_version("studio_encoder"))
    stamp = cache.stat().st_mtime_ns
    again = _ensure(env)
    assert not again["built"] and again["added"] == 0 and again["embedded"] == 0
    assert "catalog already has 30 items" in again["notes"]
    assert cache.stat().st_mtime_ns == stamp  # nothing new to read
    assert "map" not in again["seconds"]  # the map was read from the cache


@pytest.mark.slow
def test_without_an_image_model_the_catalog_still_loads(settings, env_for, repo):
    report = _ensure(env_for())
    assert report["added"] == 30 and report["embedded"] == 0
    assert any("embedding skipped" in n for n in report["notes"])
    assert "colours" not in report["seconds"]  # no vectors: the Outfits page explains
    assert "map" not in report["seconds"]  # nor a map: the Explore page explains
