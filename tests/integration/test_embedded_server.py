"""Lifecycle of the app's embedded server: start, reuse by another process, stop by owner."""

import subprocess
import sys
import textwrap

import pytest

from core.config import load_settings
from core.storage import DatabaseUnavailable, connect, open_repository
from core.storage.embedded import _alive, _terminate, ensure_server, ping


def test_start_reuse_and_stop(tmp_path):
    server = ensure_server(tmp_path)
    try:
        assert server.owned and ping(server.port)
        assert (tmp_path / "mongo" / "db").is_dir()
        # Another process of the app reuses it and does not stop it when it exits.
        code = textwrap.dedent(f"""
            from core.storage.embedded import ensure_server
            s = ensure_server({str(tmp_path)!r})
            print(s.owned, s.port)
        """)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
        assert out == ["False", str(server.port)]
        assert ping(server.port)
        again = ensure_server(tmp_path)
        assert not again.owned and again.pid == server.pid
    finally:
        server.stop()
    assert not _alive(server.pid)


def test_data_survives_restart(tmp_path):
    cfg = load_settings(env_file=tmp_path / "none", MONGO_URI="", DATA_DIR=str(tmp_path))
    repo = open_repository(cfg)
    repo.meta.insert_one({"_id": "probe", "v": 1})
    server = ensure_server(tmp_path)
    assert not server.owned  # open_repository started it; this handle only reuses it
    server.stop()  # not the owner: nothing happens
    assert ping(server.port)
    _terminate(server.pid)  # as the owner would at exit
    server = ensure_server(tmp_path)
    try:
        assert server.owned
        assert open_repository(cfg).meta.find_one({"_id": "probe"})["v"] == 1
        assert (tmp_path / "mongo" / "db" / f"{cfg.db_name}.db").exists()
        other = open_repository(cfg.with_(db_name="another_catalog"))
        assert other.meta.find_one({"_id": "probe"}) is None  # DB_NAME selects a separate DB
    finally:
        server.stop()


def test_unreachable_uri_gives_clear_masked_message():
    with pytest.raises(DatabaseUnavailable) as err:
        connect("mongodb://alice:hunter2@127.0.0.1:9/?directConnection=true", timeout_ms=300)
    msg = str(err.value)
    assert "alice:***@127.0.0.1:9" in msg and "hunter2" not in msg
    assert "MONGO_URI" in msg


@pytest.mark.slow
def test_cli_reports_unreachable_database(tmp_path):
    env = {"MONGO_URI": "mongodb://u:pw@127.0.0.1:9/?serverSelectionTimeoutMS=300",
           "DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-m", "core", "info"], capture_output=True, text=True,
                         env=env, cwd=str(__import__("core").config.PROJECT_ROOT))
    assert res.returncode == 1
    assert "unreachable at mongodb://u:***@127.0.0.1:9" in res.stderr
    assert "Traceback" not in res.stderr
