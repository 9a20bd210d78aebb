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
        if self.owned and self.pid in _CHILDREN:  # not when it died (and its pid was reused)
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


PID_FILE, PORT_FILE = "nx.pid", "nx.port"
BUSY_WAIT_S = 10.0  # a live server of ours may be busy with a large read: wait this long


def _recorded(state_dir: Path) -> tuple[int | None, int | None]:
    """(pid, port) from the state files; None for a missing or unreadable one."""
    values = []
    for name in (PID_FILE, PORT_FILE):
        try:
            values.append(int((state_dir / name).read_text().strip()))
        except (OSError, ValueError):
            values.append(None)
    return values[0], values[1]


def _proc_cmdline(pid: int) -> list[str] | None:
    """The process's command line, or None where /proc is not available."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _zombie(pid: int) -> bool:
    """True for a killed process its parent has not reaped yet (it holds its pid, but is gone)."""
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:  # ours: reap it
        _CHILDREN.pop(pid, None)
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _same_file(arg: str, pid: int, path: Path) -> bool:
    p = Path(arg)
    if not p.is_absolute():
        with contextlib.suppress(OSError):
            p = Path(os.readlink(f"/proc/{pid}/cwd")) / p
    return os.path.normpath(p) == os.path.normpath(path)


def pid_file_state(state_dir: Path) -> tuple[str, int | None, str]:
    """Who holds the pid file: ('none'|'ours'|'stale', pid, why stale).

    Stale: the process is gone (or a zombie), or the pid now belongs to a program that is not
    nx-27017 serving this pid file (pids are reused after a kill -9 and a reboot).
    """
    pid, _ = _recorded(state_dir)
    if pid is None:
        exists = (state_dir / PID_FILE).exists()
        return ("stale", None, "unreadable pid file") if exists else ("none", None, "")
    if not _alive(pid) or _zombie(pid):
        return "stale", pid, f"process {pid} is gone"
    cmd = _proc_cmdline(pid)
    if cmd is None:  # no /proc: a live pid is trusted
        return "ours", pid, ""
    if not any("nx-27017" in a or "nx_27017" in a for a in cmd):
        return "stale", pid, f"pid {pid} now belongs to another program"
    pid_args = [b for a, b in zip(cmd, cmd[1:], strict=False) if a == "--pid-file"]
    if not any(_same_file(a, pid, state_dir / PID_FILE) for a in pid_args):
        return "stale", pid, f"pid {pid} is another nx-27017 server"
    return "ours", pid, ""


def _cmdline_port(pid: int) -> int | None:
    cmd = _proc_cmdline(pid) or []
    for flag, value in zip(cmd, cmd[1:], strict=False):
        if flag in ("-p", "--port") and value.isdigit():
            return int(value)
    return None


def remove_stale_pid_file(state_dir: Path) -> str | None:
    """Delete the pid and port files when stale; returns why, or None if they were not."""
    state, pid, why = pid_file_state(state_dir)
    if state != "stale":
        return None
    for name in (PID_FILE, PORT_FILE):
        (state_dir / name).unlink(missing_ok=True)
    log.warning("removed a stale pid file %s (%s)", state_dir / PID_FILE, why)
    return why


def _read_running(state_dir: Path) -> tuple[int, int] | None:
    """(pid, port) of our live server recorded in state_dir, else None (stale files removed).

    A live server of ours that does not answer is waited for (it may be busy), then reported:
    starting a second one on the same database file would be refused by nx-27017 anyway.
    """
    state, pid, _ = pid_file_state(state_dir)
    if state != "ours":
        remove_stale_pid_file(state_dir)
        return None
    port = _cmdline_port(pid) or _recorded(state_dir)[1]
    deadline = time.monotonic() + BUSY_WAIT_S
    while port and time.monotonic() < deadline:
        if ping(port):
            (state_dir / PORT_FILE).write_text(str(port))
            return pid, port
        if pid_file_state(state_dir)[0] != "ours":  # it died meanwhile
            remove_stale_pid_file(state_dir)
            return None
        time.sleep(0.2)
    raise EmbeddedServerError(
        f"the embedded database server (pid {pid}) is running but does not answer on port "
        f"{port}; wait for it, or stop it with `kill {pid}` and retry"
    )


class _Refused(EmbeddedServerError):
    """nx-27017 refused to start: its pid file names a live process."""


def _launch(state_dir: Path, db_path: Path, port: int) -> tuple[int, int]:
    port = port or _free_port()
    cmd = [
        _server_binary(), "--data-dir", str(db_path), "--host", "127.0.0.1", "-p", str(port),
        "--log-file", str(state_dir / "nx.log"), "--pid-file", str(state_dir / PID_FILE),
    ]
    err_path = state_dir / "nx.stderr"
    err_from = err_path.stat().st_size if err_path.exists() else 0
    # Its own session, so Ctrl-C in a terminal reaches the app first and the app stops it.
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(err_path, "ab"), start_new_session=True,  # noqa: SIM115
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _start_error(err_path, err_from, port)
        if ping(port, timeout_ms=200):
            _CHILDREN[proc.pid] = proc
            (state_dir / PID_FILE).write_text(str(proc.pid))
            (state_dir / PORT_FILE).write_text(str(port))
            return proc.pid, port
        time.sleep(0.1)
    _terminate(proc.pid)
    raise EmbeddedServerError(f"embedded database server did not answer ping on port {port}")


def _start_error(err_path: Path, offset: int, port: int) -> EmbeddedServerError:
    """The last line the server wrote before exiting at start, as an error."""
    with open(err_path, "rb") as fh:
        fh.seek(offset)
        lines = [ln.strip() for ln in fh.read().decode(errors="replace").splitlines()]
    last = next((ln for ln in reversed(lines) if ln), "no message")
    kind = _Refused if "already running" in last else EmbeddedServerError
    return kind(f"embedded database server exited at start (port {port}): {last[-300:]}")


def _start(state_dir: Path, db_path: Path, port: int) -> tuple[int, int]:
    """Launch a server; once more after removing the pid file if nx-27017 calls it taken."""
    try:
        return _launch(state_dir, db_path, port)
    except _Refused:
        if remove_stale_pid_file(state_dir) is None:
            raise
        return _launch(state_dir, db_path, port)


def ensure_server(data_dir: Path, port: int = 0) -> EmbeddedServer:
    """Reuse the app's running embedded server under data_dir, or start one.

    A lock file serialises concurrent starters, so two processes never start two servers
    on the same database file. A pid file left by a killed server is removed (and logged).
    """
    state_dir = Path(data_dir).resolve() / "mongo"
    state_dir.mkdir(parents=True, exist_ok=True)
    db_path = state_dir / "db"  # one <DB_NAME>.db file per database
    db_path.mkdir(exist_ok=True)
    with _state_lock(state_dir):
        running = _read_running(state_dir)
        owned = running is None
        pid, port_ = _start(state_dir, db_path, port) if owned else running
    log.info("%s embedded MongoDB server pid=%s port=%s", "started" if owned else "reusing",
             pid, port_)
    server = EmbeddedServer(
        uri=f"mongodb://127.0.0.1:{port_}/?directConnection=true", port=port_, pid=pid,
        owned=owned, db_path=db_path, log_path=state_dir / "nx.log",
    )
    if owned:
        atexit.register(server.stop)
    return server


@contextlib.contextmanager
def _state_lock(state_dir: Path):
    """Held while reading or changing the server's state files (start, stale pid removal)."""
    with open(state_dir / "nx.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def clear_stale_pid_file(data_dir: Path) -> str | None:
    """Remove a stale pid file of the server under data_dir (under the start lock); returns
    why it was stale, or None when there was none or it names a live server."""
    state_dir = Path(data_dir).resolve() / "mongo"
    if not (state_dir / PID_FILE).exists():
        return None
    with _state_lock(state_dir):
        return remove_stale_pid_file(state_dir)
