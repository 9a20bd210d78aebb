"""Shared fixtures: a real embedded MongoDB-wire server (nx-27017) for the whole session."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.config import Settings, load_settings
from core.storage.embedded import _free_port, ping

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory) -> str:
    """Start nx-27017 on a free port with an in-memory database; stop it after the session."""
    state = tmp_path_factory.mktemp("nx")
    port = _free_port()
    exe = Path(sys.executable).parent / "nx-27017"
    proc = subprocess.Popen(
        [str(exe), "--db", "memory", "--host", "127.0.0.1", "-p", str(port),
         "--log-file", str(state / "nx.log"), "--pid-file", str(state / "nx.pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    import time

    deadline = time.monotonic() + 20
    while not ping(port, timeout_ms=200):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("embedded MongoDB test server did not start")
        time.sleep(0.1)
    yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# Tests run on the compact from-scratch encoder (fast, small test models); the default
# EfficientNet-Lite encoder has its own tests, and the browser tests run the app's default.
TEST_BACKBONE = "studio_encoder"


@pytest.fixture
def settings(mongo_uri, tmp_path) -> Settings:
    """Settings pointing at the test server with a throw-away database and data dir."""
    return load_settings(
        env_file=tmp_path / "none.env", MONGO_URI=mongo_uri,
        DB_NAME=f"test_{uuid.uuid4().hex[:10]}", DATA_DIR=str(tmp_path / "data"),
        WEIGHTS_DIR=str(tmp_path / "weights"), DEVICE="cpu", BACKBONE=TEST_BACKBONE,
    )


@pytest.fixture
def repo(settings):
    """A Repository on a fresh database, dropped after the test."""
    from core.storage import open_repository

    r = open_repository(settings)
    yield r
    r.conn.client.drop_database(settings.db_name)
    r.conn.client.close()


@pytest.fixture
def env_for(settings):
    """Environment variables that make a subprocess (CLI, streamlit) use the test settings."""

    def _env(**extra: str) -> dict[str, str]:
        return {**os.environ, **settings_env(settings), "PYTHONPATH": str(ROOT), **extra}

    return _env


def settings_env(settings) -> dict[str, str]:
    """The environment variables that make the CLI and the app use ``settings``."""
    return {"MONGO_URI": settings.mongo_uri, "DB_NAME": settings.db_name,
            "DATA_DIR": str(settings.data_dir), "WEIGHTS_DIR": str(settings.weights_dir),
            "DEVICE": "cpu", "BACKBONE": settings.backbone}


@pytest.fixture
def cli_settings(settings, monkeypatch):
    """In-process CLI calls (``core.cli.main``) use the test settings."""
    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)
    return settings



@pytest.fixture
def small_catalog(repo, settings):
    """Factory: n items with small real JPEGs under the data dir, upserted into ``repo``."""
    from tests.helpers import make_small_catalog

    return lambda n=12, size=64: make_small_catalog(repo, settings.data_dir, n, size)
