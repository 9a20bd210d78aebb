"""`bench scale` at a tiny size: every figure present and finite; bad sizes refused."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.conftest import ROOT

KEYS = ("items", "dim", "insert_vectors_per_s", "cold_load_vectors_per_s", "warm_load_s",
        "peak_memory_ratio", "snapshot_write_s", "snapshot_load_vectors_per_s",
        "snapshot_peak_memory_ratio", "query_ms", "added_vectors", "pack_added_s",
        "pack_reading_back_s", "pack_added_speedup")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "bench", "scale", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=240, check=False)


@pytest.mark.slow
def test_tiny_scale_bench_reports_every_figure():
    proc = _run("--items", "2000", "--dim", "16", "--queries", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert all(k in result for k in KEYS)
    assert result["items"] == 2000 and result["dim"] == 16
    numbers = [result[k] for k in KEYS if k != "query_ms"]
    numbers += [v for kind in ("exact", "ivf") for v in result["query_ms"][kind].values()]
    assert all(math.isfinite(v) and v >= 0 for v in numbers)
    assert result["insert_vectors_per_s"] > 0 and result["cold_load_vectors_per_s"] > 0
    assert result["snapshot_load_vectors_per_s"] > 0
    assert result["query_ms"]["exact"]["p95"] >= result["query_ms"]["exact"]["p50"]


def test_bad_size_is_refused_before_anything_runs():
    proc = _run("--items", "5")
    assert proc.returncode == 2
    assert "--items must be in [100, 5000000], got 5" in proc.stderr
