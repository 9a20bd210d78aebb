"""Browser end-to-end fixtures: the real `streamlit run app.py` on a free port, driven by
Playwright in Debian's Chromium (/usr/bin/chromium; never `playwright install`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from core.config import load_settings
from core.models.registry import get_spec
from core.storage.embedded import _free_port, _terminate

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
DEFAULTS = load_settings(env_file=Path("/nonexistent"))
# the browser tests run the app as shipped: the default encoder and its weights
ENCODER = DEFAULTS.weights_dir / get_spec(DEFAULTS.backbone).weights_file


@pytest.fixture(scope="session")
def e2e_env(mongo_uri, tmp_path_factory) -> dict[str, str]:
    """Settings for the app under test: the session DB server, a fresh database and data dir."""
    data = tmp_path_factory.mktemp("e2e-data")
    return {
        "MONGO_URI": mongo_uri, "DB_NAME": f"e2e_{uuid.uuid4().hex[:8]}",
        "DATA_DIR": str(data), "DEVICE": "cpu",
    }


@pytest.fixture(scope="session")
def e2e_repo(e2e_env):
    from core.config import load_settings
    from core.storage import open_repository

    cfg = load_settings(env_file=Path("/nonexistent"), **e2e_env)
    return cfg, open_repository(cfg)


@pytest.fixture(scope="session")
def demo_catalog(e2e_repo, tmp_path_factory):
    """A 120-item demo catalog (with its outfits), ingested and embedded in the app's database
    with the default encoder; built once for every module that needs it."""
    if not ENCODER.exists():
        pytest.skip(f"shipped encoder weights missing: {ENCODER}")
    from core.demo.build import build_catalog
    from core.ingest import ingest_path
    from core.models.embed import embed_catalog

    cfg, repo = e2e_repo
    out = tmp_path_factory.mktemp("e2e-demo")
    build_catalog(out, 120, 7, size=128, workers=1)
    report = ingest_path(repo, cfg, out)
    assert report.added == 120 and not report.rejected
    embed_catalog(repo, cfg, cfg.backbone, workers=0)
    return cfg, repo, out


def query_photo(demo_catalog, tmp_path):
    """A re-rendered variant (new pose, background, lighting) of a test-split item:
    (its spec, the photo's path)."""
    import json

    from core.demo.render import render_item

    _, _, out = demo_catalog
    items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    spec = next(it for it in items if it["split"] == "test")
    image, _ = render_item(spec, variant=1, size=128)
    path = tmp_path / f"query_{spec['sku']}.jpg"
    image.save(path, quality=92)
    return spec, path


def start_app(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free port; returns (process, url) once it is healthy."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _terminate(proc.pid)
            pytest.fail(f"streamlit did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.3)


@pytest.fixture(scope="session")
def app_url(e2e_env, tmp_path_factory):
    """Start the real Streamlit server and wait for its health endpoint."""
    proc, url = start_app(e2e_env, tmp_path_factory.mktemp("e2e-log") / "streamlit.log")
    yield url
    _terminate(proc.pid)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `bash run_tests.sh` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page; a screenshot is kept in tests/e2e/artifacts after each test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
