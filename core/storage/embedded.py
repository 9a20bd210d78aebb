"""Embedded MongoDB-wire server (nx-27017) lifecycle: start, reuse, stop.

With no MONGO_URI the app runs its own server on 127.0.0.1 with its database files (one SQLite
file per database name, so DB_NAME selects a separate catalog), pid file, port file and log under
``DATA_DIR/mongo``. A second process of the app finds the running
server through those files and reuses it; only the process that started a server stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

START_TIMEOUT_S = 20.0


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started or reached."""


@dataclass
class EmbeddedServer:
    uri: str
    port: int
    pid: int
    owned: bool  # True when this process started it (and will stop it)
    db_path: Path
    log_path: Path

    def stop(self) -> None:
        if self.owned:
            _terminate(self.pid)
            self.owned = False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


_CHILDREN: dict[int, subprocess.Popen] = {}  # servers this process started (to reap them)


def _terminate(pid: int, timeout: float = 5.0) -> None:
    proc = _CHILDREN.pop(pid, None)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        if proc is not None and proc.poll() is not None:
            return
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if proc is not None:
        proc.wait(timeout=timeout)


def ping(port: int, timeout_ms: int = 500) -> bool:
    """True when a MongoDB-wire server answers ``ping`` on 127.0.0.1:port."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client = MongoClient(
        host="127.0.0.1", port=port, serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms, directConnection=True,
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _server_binary() -> str:
    exe = Path(sys.executable).parent / "nx-27017"
    if exe.exists():
        return str(exe)
    found = shutil.which("nx-27017")
    if not found:
        raise EmbeddedServerError(
            "the embedded database server 'nx-27017' is not installed: "
            "run `pip install -r requirements.txt` or set MONGO_URI in .env"
        )
    return found


def _read_running(state_dir: Path) -> tuple[int, int] | None:
    """(pid, port) of a live server recorded in state_dir, else None."""
    try:
        pid = int((state_dir / "nx.pid").read_text().strip())
        port = int((state_dir / "nx.port").read_text().strip())
    except (OSError, ValueError):
        return None
    if _alive(pid) and ping(port):
        return pid, port
    return None


def _launch(state_dir: Path, db_path: Path, port: int) -> tuple[int, int]:
    port = port or _free_port()
    log_path = state_dir / "nx.log"
    cmd = [
        _server_binary(), "--data-dir", str(db_path), "--host", "127.0.0.1", "-p", str(port),
        "--log-file", str(log_path), "--pid-file", str(state_dir / "nx.pid"),
    ]
    # Its own session, so Ctrl-C in a terminal reaches the app first and the app stops it.
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(state_dir / "nx.stderr", "ab"), start_new_session=True,  # noqa: SIM115
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (state_dir / "nx.stderr").read_text(errors="replace")[-400:]
            raise EmbeddedServerError(
                f"embedded database server exited at start (port {port}): {err.strip()}"
            )
        if ping(port, timeout_ms=200):
            _CHILDREN[proc.pid] = proc
            (state_dir / "nx.pid").write_text(str(proc.pid))
            (state_dir / "nx.port").write_text(str(port))
            return proc.pid, port
        time.sleep(0.1)
    _terminate(proc.pid)
    raise EmbeddedServerError(f"embedded database server did not answer ping on port {port}")


def ensure_server(data_dir: Path, port: int = 0) -> EmbeddedServer:
    """Reuse the app's running embedded server under data_dir, or start one.

    A lock file serialises concurrent starters, so two processes never start two servers
    on the same database file.
    """
    state_dir = Path(data_dir) / "mongo"
    state_dir.mkdir(parents=True, exist_ok=True)
    db_path = state_dir / "db"  # one <DB_NAME>.db file per database
    db_path.mkdir(exist_ok=True)
    with open(state_dir / "nx.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = _read_running(state_dir)
        if running:
            pid, port_ = running
            owned = False
            log.info("reusing embedded MongoDB server pid=%s port=%s", pid, port_)
        else:
            pid, port_ = _launch(state_dir, db_path, port)
            owned = True
            log.info("started embedded MongoDB server pid=%s port=%s", pid, port_)
    server = EmbeddedServer(
        uri=f"mongodb://127.0.0.1:{port_}/?directConnection=true", port=port_, pid=pid,
        owned=owned, db_path=db_path, log_path=state_dir / "nx.log",
    )
    if owned:
        atexit.register(server.stop)
    return server
