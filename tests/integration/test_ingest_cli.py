"""`python -m core ingest` as a subprocess: JSON shape, exit codes, idempotency, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.fixtures_bad import make_bad_images, write_images
from tests.fixtures_ingest import make_demo_catalog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(env, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "core", "ingest", *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def test_json_shape_and_idempotency(repo, env_for, tmp_path):
    root = make_demo_catalog(tmp_path / "demo", n=5)
    first = _cli(env_for(), root, "--json")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)  # stdout holds only the JSON document
    assert {"added", "duplicates", "rejected", "format", "seconds"} <= set(out)
    assert (out["added"], out["duplicates"], out["rejected"], out["format"]) == (5, 0, [], "demo")
    assert isinstance(out["seconds"], float)
    again = json.loads(_cli(env_for(), root, "--json").stdout)
    assert (again["added"], again["duplicates"]) == (0, 5)
    assert repo.count_items() == 5
    journal = repo.find_docs("ingest_journal")  # only the run that changed something
    assert len(journal) == 1 and journal[0]["added"] == 5 and journal[0]["format"] == "demo"


def test_rejections_exit_2_with_one_line_each(repo, env_for, tmp_path):
    make_bad_images(tmp_path / "corpus")
    res = _cli(env_for(), tmp_path / "corpus", "--json")
    assert res.returncode == 2, res.stderr
    out = json.loads(res.stdout)
    assert {r["file"] for r in out["rejected"]} >= {"zero.jpg", "notes.jpg", "truncated.jpg"}
    assert all(set(r) == {"file", "reason"} for r in out["rejected"])
    text = _cli(env_for(), tmp_path / "corpus")
    assert text.returncode == 2
    assert "rejected zero.jpg: empty file (0 bytes)" in text.stdout.splitlines()
    assert "skipped as duplicate 9" in text.stdout


def test_limit_and_clean_source_exit_0(repo, env_for, tmp_path):
    write_images(tmp_path / "imgs", 5)
    res = _cli(env_for(), tmp_path / "imgs", "--limit", "2")
    assert res.returncode == 0, res.stderr
    assert "added 2, skipped as duplicate 0, rejected 0" in res.stdout
    assert repo.count_items() == 2


def test_unknown_path_exit_2(env_for, tmp_path):
    res = _cli(env_for(), tmp_path / "nowhere")
    assert res.returncode == 2
    assert "nowhere: no such file or directory" in res.stderr
    assert "Traceback" not in res.stderr
    (tmp_path / "empty").mkdir()
    res = _cli(env_for(), tmp_path / "empty", "--json")
    assert res.returncode == 2 and res.stdout == ""
    assert "no images found" in res.stderr


def _kill_when_started(proc, repo, total, deadline_s=60.0) -> int:
    """SIGKILL the ingest once some (not all) items are in the database; returns that count."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        n = repo.count_items()
        if n > 0:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            return n
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    raise AssertionError(f"ingest ended (rc={proc.poll()}) before it could be killed")


def test_kill_9_mid_ingest_then_rerun(repo, settings, env_for, tmp_path):
    total = 300
    write_images(tmp_path / "many", total, size=(96, 96))
    proc = subprocess.Popen([sys.executable, "-m", "core", "ingest", str(tmp_path / "many")],
                            cwd=ROOT, env=env_for(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    at_kill = _kill_when_started(proc, repo, total)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < repo.count_items() < total, at_kill
    rerun = _cli(env_for(), tmp_path / "many", "--json")
    assert rerun.returncode == 0, rerun.stderr
    out = json.loads(rerun.stdout)
    assert repo.count_items() == total
    assert out["added"] + out["duplicates"] == total and out["rejected"] == []
    items = list(repo.iter_items())
    assert len({it.hash for it in items}) == len({it.extra["file"] for it in items}) == total
    for it in items:
        assert (settings.data_dir / it.image_path).is_file()
    assert json.loads(_cli(env_for(), tmp_path / "many", "--json").stdout)["added"] == 0


def test_stale_temp_files_swept_fresh_ones_kept(repo, settings, tmp_path):
    from core.ingest import ingest_path

    folder = settings.data_dir / "images" / "ab"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tmp-old.jpg", folder / ".tmp-live.jpg"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    write_images(tmp_path / "imgs", 1)
    ingest_path(repo, settings, tmp_path / "imgs")
    assert not stale.exists() and fresh.exists()
