"""Fine-tuning jobs in a background process: DATA_DIR/models/jobs/<id>/ holds params.json,
status.json (rewritten atomically as the run goes) and the run's log. One run at a time."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from core.modelhub import store
from core.modelhub.data import check_folder
from core.modelhub.finetune import FineTuneParams, Reporter, check_device

log = logging.getLogger(__name__)
LIVE = ("starting", "loading", "caching", "running")  # states of a run still going
ENV_KEYS = ("MONGO_URI", "DB_NAME", "COLLECTION_NAME", "DATA_DIR", "WEIGHTS_DIR", "DEVICE",
            "BACKBONE", "EMBEDDED_PORT", "INDEX_KIND")


class JobRunning(RuntimeError):
    """A fine-tuning run is going already; ``job_id`` names it."""

    def __init__(self, job_id: str):
        super().__init__(f"a fine-tuning run is already going (job {job_id}): wait for it or "
                         "stop it first")
        self.job_id = job_id


def jobs_dir(data_dir: Path) -> Path:
    return store.models_dir(data_dir) / "jobs"


def status_path(data_dir: Path, job_id: str) -> Path:
    return jobs_dir(data_dir) / job_id / "status.json"


@contextmanager
def _jobs_lock(data_dir: Path):
    root = jobs_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield root
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def settings_env(settings) -> dict[str, str]:
    """Environment that makes a child process use ``settings`` (with its active model)."""
    return {"MONGO_URI": settings.mongo_uri, "DB_NAME": settings.db_name,
            "COLLECTION_NAME": settings.collection_name, "DATA_DIR": str(settings.data_dir),
            "WEIGHTS_DIR": str(settings.weights_dir), "DEVICE": settings.device_setting,
            "BACKBONE": settings.backbone, "EMBEDDED_PORT": str(settings.embedded_port),
            "INDEX_KIND": settings.index_kind}


def start_job(settings, params: FineTuneParams) -> str:
    """Check the settings, then start ``python -m core models train-job ID`` detached (it
    outlives the page and the browser; a thread of this process waits for it so that it does
    not linger as a zombie once it ends); raises JobRunning when a run is going."""
    params.check()
    check_device(params.device)
    if params.folder:
        params.folder = check_folder(params.folder)
    params.base = params.base or settings.backbone
    with _jobs_lock(settings.data_dir) as root:
        going = running_job(settings.data_dir)
        if going:
            raise JobRunning(going)
        job_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid() % 1000:03d}"
        folder = root / job_id
        folder.mkdir(parents=True)
        store.write_json(folder / "params.json", asdict(params))
        store.write_json(folder / "status.json", {"job_id": job_id, "state": "starting",
                                                  "started": store.now(), "epochs": params.epochs,
                                                  "history": [], "base": params.base})
        env = {**os.environ, **settings_env(settings),
               "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        with (folder / "log.txt").open("w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "core", "models", "train-job", job_id],
                                    stdout=out, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True, cwd=str(folder))
        threading.Thread(target=proc.wait, name=f"reap train-job {job_id}", daemon=True).start()
        _update(settings.data_dir, job_id, pid=proc.pid)
    return job_id


def _update(data_dir: Path, job_id: str, **changes) -> dict:
    path = status_path(data_dir, job_id)
    status = store.read_json(path) or {"job_id": job_id}
    status.update(changes, updated=store.now())
    store.write_json(path, status)
    return status


def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not reaped, counts as gone)."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, PermissionError, ValueError):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def job_status(data_dir: Path, job_id: str) -> dict | None:
    """A job's status; a live state whose process is gone reads as "lost" (killed trainer)."""
    status = store.read_json(status_path(data_dir, job_id))
    if status is None:
        return None
    if status.get("state") in LIVE and status.get("pid") and not pid_alive(status["pid"]):
        time.sleep(0.2)  # the process may have written its last status as it exited
        status = store.read_json(status_path(data_dir, job_id)) or status
        if status.get("state") in LIVE:
            status = {**status, "state": "lost",
                      "message": f"the trainer process (pid {status['pid']}) stopped without "
                                 "finishing: it was killed or crashed; no model was written "
                                 "and the active encoder is unchanged"}
    return status


def list_jobs(data_dir: Path) -> list[str]:
    root = jobs_dir(data_dir)
    return sorted(p.name for p in root.iterdir() if (p / "status.json").is_file()) \
        if root.is_dir() else []


def running_job(data_dir: Path) -> str | None:
    for job_id in reversed(list_jobs(data_dir)):
        status = job_status(data_dir, job_id)
        if status and status.get("state") in LIVE:
            return job_id
    return None


def latest_job(data_dir: Path) -> str | None:
    jobs = list_jobs(data_dir)
    return jobs[-1] if jobs else None


def stop_job(data_dir: Path, job_id: str) -> bool:
    """Ask a run to stop (SIGTERM; it ends after the current step and keeps its best epoch, or
    after the current batch of its caching, with no model)."""
    status = job_status(data_dir, job_id)
    if not status or status.get("state") not in LIVE:
        return False
    _update(data_dir, job_id, stop_requested=True)
    try:
        os.kill(int(status["pid"]), signal.SIGTERM)
    except (ProcessLookupError, KeyError, TypeError):
        return False
    return True


class StatusReporter(Reporter):
    """Writes a run's progress into its status.json (images cached, epoch, step, loss,
    validation, ETA); the time budget counts from its creation (the whole run's)."""

    def __init__(self, data_dir: Path, job_id: str, epochs: int, budget_minutes: float):
        self.data_dir, self.job_id, self.epochs = data_dir, job_id, epochs
        self.budget = budget_minutes * 60
        self.history: list[dict] = []
        self.stop = False
        self.started = self.t0 = time.monotonic()  # the run's start, the stage's start
        self._last = 0.0
        signal.signal(signal.SIGTERM, self._on_term)

    def _on_term(self, *_):
        self.stop = True

    def stop_requested(self) -> bool:
        return self.stop

    def phase(self, state: str, message: str = "") -> None:
        self.t0 = time.monotonic() if state in ("loading", "caching", "running") else self.t0
        _update(self.data_dir, self.job_id, state=state, message=message, pid=os.getpid())

    def _eta(self, now: float, done: float) -> float | None:
        """Seconds left of the stage at its pace so far, or of the budget when less."""
        eta = (now - self.t0) * (1 - done) / done if done > 0 else None
        if self.budget:
            left = max(0.0, self.budget - (now - self.started))
            eta = left if eta is None else min(eta, left)
        return round(eta, 1) if eta is not None else None

    def _due(self, now: float, last: bool) -> bool:
        """Whether to write now (at most once a second, and the stage's last report)."""
        if now - self._last < 1.0 and not last:
            return False
        self._last = now
        return True

    def loaded(self, done: int, total: int) -> None:
        """Photos read of the total (the loading stage): written like the images cached."""
        self.cached(done, total)

    def cached(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._due(now, done >= total):
            share = done / max(total, 1)
            _update(self.data_dir, self.job_id, cached=done, cache_total=total,
                    progress=round(share, 4), eta_s=self._eta(now, share))

    def step(self, epoch: int, step: int, steps: int) -> None:
        now = time.monotonic()
        if not self._due(now, step >= steps):
            return
        done = min(1.0, ((epoch - 1) + step / steps) / self.epochs)
        eta = self._eta(now, done)
        if self.budget:
            done = max(done, min(1.0, (now - self.started) / self.budget))
        _update(self.data_dir, self.job_id, epoch=epoch, step=step, steps=steps,
                progress=round(done, 4), eta_s=eta, elapsed_s=round(now - self.t0, 1))

    def epoch(self, row: dict) -> None:
        self.history.append({k: v for k, v in row.items() if isinstance(v, int | float)})
        _update(self.data_dir, self.job_id, history=self.history,
                loss=row.get("train_loss"))


def run_job(settings, job_id: str) -> int:
    """The body of ``models train-job``: run the fine-tune and record how it ended."""
    from core.modelhub.data import DataError
    from core.modelhub.finetune import Diverged, fine_tune
    from core.storage import open_repository

    data_dir = settings.data_dir
    params = FineTuneParams(**(store.read_json(jobs_dir(data_dir) / job_id / "params.json")
                               or {}))
    params.threads = params.threads or max(1, (os.cpu_count() or 2) - 1)
    with _suppress_oserror():
        os.nice(5)  # the app stays responsive while the trainer runs
    reporter = StatusReporter(data_dir, job_id, params.epochs, params.max_minutes)
    reporter.phase("loading", "loading the base encoder")
    try:
        result = fine_tune(settings, open_repository(settings), params,
                           jobs_dir(data_dir) / job_id, reporter)
    except Diverged as exc:
        _update(data_dir, job_id, state="diverged",
                message=f"training diverged ({exc}): stopped, no model was written and the "
                        "active encoder is unchanged; try a lower learning rate")
        return 1
    except DataError as exc:
        _update(data_dir, job_id, state="failed", message=str(exc))
        return 2
    except Exception as exc:
        log.exception("fine-tune failed")
        _update(data_dir, job_id, state="failed", message=f"the run failed: {exc}")
        return 1
    state = "stopped" if result["stopped"].startswith("stopped") else "done"
    message = (f"model {result['model_id']} written ({result['stopped']})"
               if result["model_id"] else result.get("message", result["stopped"]))
    _update(data_dir, job_id, state=state, model_id=result["model_id"], message=message,
            progress=1.0 if state == "done" else None, eta_s=0)
    (jobs_dir(data_dir) / job_id / "best.pt").unlink(missing_ok=True)
    return 0


@contextmanager
def _suppress_oserror():
    try:
        yield
    except OSError:
        pass
