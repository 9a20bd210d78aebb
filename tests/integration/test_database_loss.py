"""The database dies mid-command: one line (exit 1), then `doctor` finds and repairs what a
killed run leaves, and the embedded server starts again despite its stale pid file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.config import PROJECT_ROOT, load_settings
from core.storage import open_repository
from core.storage.embedded import ensure_server, pid_file_state

N_IMAGES = 1200  # enough batches that the kill lands part-way


def _images(folder: Path, n: int) -> Path:
    """n distinct small JPEGs (noise, so no two encode to the same bytes)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.jpg")
    return folder


def _core(env: dict, *args: str, **kw) -> subprocess.Popen | subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "core", *args]
    if kw.pop("background", False):
        return subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _old_file(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (time.time() - 7200, time.time() - 7200))
    return path


@pytest.fixture
def embedded(tmp_path):
    """A dedicated embedded server under its own DATA_DIR, and the env that makes the CLI use it."""
    data = tmp_path / "data"
    server = ensure_server(data)
    env = {**os.environ, "MONGO_URI": "", "DATA_DIR": str(data), "DB_NAME": "loss_test",
           "WEIGHTS_DIR": str(tmp_path / "weights"), "PYTHONPATH": str(PROJECT_ROOT)}
    cfg = load_settings(env_file=tmp_path / "none.env", MONGO_URI="", DATA_DIR=str(data),
                        DB_NAME="loss_test")
    yield server, env, cfg
    server.stop()


def _kill_server_mid_ingest(server, env, cfg, source: Path) -> subprocess.Popen:
    """Start an ingest, freeze it once its first batch is stored, SIGKILL the server, resume."""
    proc = _core(env, "ingest", str(source), background=True)
    repo = open_repository(cfg)
    deadline = time.monotonic() + 120
    while repo.count_items() == 0:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "ingest stored nothing in time"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGSTOP)
    os.kill(server.pid, signal.SIGKILL)
    os.kill(proc.pid, signal.SIGCONT)
    return proc


@pytest.mark.slow
def test_server_killed_mid_ingest_then_doctor_repairs(embedded, tmp_path):
    server, env, cfg = embedded
    proc = _kill_server_mid_ingest(server, env, cfg, _images(tmp_path / "src", N_IMAGES))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    line = f"error: The database at mongodb://127.0.0.1:{server.port}/?directConnection=true " \
           "stopped answering during ingest"
    assert line in err and "nothing was half-written; re-run the command" in err
    assert "Traceback" not in err
    # The killed server is a zombie of this process: its pid is alive but it is gone.
    assert pid_file_state(cfg.data_dir / "mongo")[0] == "stale"
    planted = _old_file(cfg.data_dir / "images" / "ff" / f"{'f' * 64}.jpg")

    res = _core(env, "doctor", "--json", "--grace", "0")
    assert res.returncode == 1, res.stderr
    report = json.loads(res.stdout)
    assert "removed a stale pid file" in res.stderr  # the server started despite it
    assert report["findings"]["stale_pid"]["fixed"] == 1
    orphans = report["findings"]["orphan_files"]
    assert orphans["count"] >= 1 and orphans["fixed"] == 0 and planted.exists()

    res = _core(env, "doctor", "--fix", "--grace", "0", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    fixed = json.loads(res.stdout)["findings"]["orphan_files"]
    assert fixed["fixed"] == fixed["count"] == orphans["count"] and not planted.exists()
    assert _core(env, "doctor").returncode == 0

    again = _core(env, "ingest", str(tmp_path / "src"))  # re-run finishes the job
    assert again.returncode == 0, again.stderr
    assert open_repository(cfg).count_items() == N_IMAGES


def test_debug_flag_shows_the_traceback(cli_settings, monkeypatch, capsys):
    from pymongo.errors import AutoReconnect

    import core.catalog_info
    from core.cli import main

    def lost(*_a, **_k):
        raise AutoReconnect("127.0.0.1:1: connection closed")

    monkeypatch.setattr(core.catalog_info, "catalog_summary", lost)
    assert main(["info"]) == 1
    err = capsys.readouterr().err
    assert "stopped answering during info (connection closed)" in err
    assert cli_settings.mongo_uri in err and "Traceback" not in err
    assert main(["--debug", "info"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "stopped answering during info" in err


def test_command_module_that_fails_to_import_is_an_error(monkeypatch):
    import core.cli

    monkeypatch.setattr(core.cli, "COMMAND_MODULES", [*core.cli.COMMAND_MODULES, "core.cli.nope"])
    with pytest.raises(ModuleNotFoundError):
        core.cli.build_parser()


@pytest.fixture
def other_program():
    """A live process that is not nx-27017 (its pid stands for a recycled one)."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_pid_file_naming_another_program_is_stale(tmp_path, other_program, caplog):
    state = tmp_path / "mongo"
    state.mkdir()
    (state / "nx.pid").write_text(str(other_program))
    assert pid_file_state(state)[0] == "stale"
    with caplog.at_level("WARNING", logger="core.storage.embedded"):
        server = ensure_server(tmp_path)
    try:
        assert server.owned and server.pid != other_program
        assert "removed a stale pid file" in caplog.text and "another program" in caplog.text
        assert pid_file_state(state) == ("ours", server.pid, "")
    finally:
        server.stop()


def test_nx_refusal_is_retried_after_removing_the_stale_pid_file(tmp_path, other_program):
    from core.storage.embedded import _start, _terminate

    state = tmp_path / "mongo"
    (state / "db").mkdir(parents=True)
    (state / "nx.pid").write_text(str(other_program))  # nx-27017 itself calls it "running"
    pid, port = _start(state, state / "db", 0)
    try:
        assert "already running" in (state / "nx.stderr").read_text()
        assert pid != other_program and int((state / "nx.pid").read_text()) == pid
    finally:
        _terminate(pid)
