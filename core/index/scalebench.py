"""`bench scale`: a catalog of N vectors on one machine, loaded in pages and from the disk cache.

Runs on a throw-away embedded server whose database lives in a temporary folder (never the
catalog of the settings). Inserts N synthetic unit vectors shaped like an embed's documents
(clustered, as real embeddings are), then measures:

- insert rate (vectors/s through ``Repository.put_vectors``),
- cold load: MongoDB -> one float32 array, vectors/s (a fresh process, no cache), and the
  CPU seconds of that process in it (the rest of its wall time is spent waiting on the server):
  the first-ever load, one document per vector; then the seconds that process takes to pack
  the vectors into their snapshot in MongoDB (core/storage/vectorsnapshot.py),
- snapshot load: a fresh process with no disk cache reads that snapshot, vectors/s,
- warm load: the disk cache, memory-mapped, seconds (a fresh process),
- peak memory of each load: the process's peak resident set (VmHWM) added by the load,
  divided by the vectors' bytes (each load in its own fresh process, so peaks are its own),
- single-query latency p50/p95 of the exact and the IVF index over the cached vectors,
- adding ADDED vectors (one embed batch) to the packed catalog: packing the new state from the
  packed one and the new rows (``pack_added``, what an embed does) against reading every vector
  document back and packing that (what it did before), seconds of each.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.index.vectorcache import VectorCache, cached_vectors, pack_added
from core.storage.vectorsnapshot import load_snapshot, write_snapshot

log = logging.getLogger(__name__)

MODEL = "bench_scale"
DB_NAME = "bench_scale"
ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SIZE = 1000
ADDED = 1000  # vectors added to the packed catalog in the last step


def _vm_kb(field: str) -> int:
    """A VmRSS / VmHWM value of this process in kB (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if field == "VmHWM" else 0


def _cpu_s() -> float:
    """CPU seconds of this process so far (user + system, all threads)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def synthetic_batch(start: int, size: int, dim: int, clusters: int, seed: int = 0
                    ) -> np.ndarray:
    """Rows ``start .. start+size`` of a clustered set of unit vectors (same rows every run)."""
    centres = np.random.default_rng(seed).standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng([seed, start])
    block = centres[rng.integers(0, clusters, size)]
    block += np.float32(1.0 / math.sqrt(dim)) * rng.standard_normal((size, dim), np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    return block


def sku(i: int) -> str:
    return f"SC{i:08d}"


def insert(repo, items: int, dim: int, *, batch: int = 10_000,
           progress: Callable[[int, int], None] | None = None) -> float:
    """Insert ``items`` vectors of model MODEL in batches; returns vectors per second."""
    clusters = max(1, items // CLUSTER_SIZE)
    start = time.perf_counter()
    for lo in range(0, items, batch):
        size = min(batch, items - lo)
        vectors = synthetic_batch(lo, size, dim, clusters)
        repo.put_vectors(MODEL, [sku(i) for i in range(lo, lo + size)], vectors)
        if progress is not None:
            progress(lo + size, items)
    return items / (time.perf_counter() - start)


def measure_load(uri: str, cache_dir: Path, mode: str) -> dict[str, float]:
    """One load in this process: "cold" reads MongoDB one document per vector (then writes
    the snapshot and the disk cache), "snapshot" reads the packed snapshot (no disk cache),
    "warm" maps the disk cache. Seconds, vectors and the peak resident memory the load added."""
    from core.storage.repository import Repository, connect

    repo = Repository(connect(uri), DB_NAME)
    count, version = repo.vector_count(MODEL), repo.vectors_version(MODEL)
    cache = VectorCache(cache_dir)
    rss0 = _vm_kb("VmRSS")
    cpu0, t0 = _cpu_s(), time.perf_counter()
    if mode == "cold":
        skus, matrix = repo.vectors(MODEL)
    elif mode == "snapshot":
        packed = load_snapshot(repo, MODEL, count, version)
        if packed is None:
            raise RuntimeError("no vector snapshot to load")
        skus, matrix = packed
    else:
        hit = cache.load(MODEL, count, version)
        if hit is None:
            raise RuntimeError("no vector cache to load")
        skus, matrix = hit
    seconds, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
    peak = _vm_kb("VmHWM")
    result = {"mode": mode, "vectors": len(skus), "seconds": seconds, "cpu_s": cpu,
              "peak_added_bytes": max(0, peak - rss0) * 1024, "vector_bytes": matrix.nbytes}
    if mode == "cold":
        t1 = time.perf_counter()
        write_snapshot(repo, MODEL, version, skus, matrix)
        result["snapshot_write_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        cache.save(MODEL, version, skus, matrix)
        result["cache_write_s"] = time.perf_counter() - t1
    elif mode == "snapshot" and skus != [sku(i) for i in range(count)]:
        raise RuntimeError("the snapshot's skus differ from the inserted ones")
    else:
        t1 = time.perf_counter()
        float(np.asarray(matrix[:: max(1, len(matrix) // 1000)]).sum())  # pages are readable
        result["touch_s"] = time.perf_counter() - t1
    return result


def _child_load(uri: str, cache_dir: Path, mode: str) -> dict[str, float]:
    """measure_load in a fresh interpreter (its own peak memory)."""
    proc = subprocess.run(
        [sys.executable, "-m", "core.index.scalebench", "--uri", uri, "--cache", str(cache_dir),
         "--mode", mode], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} load failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout)


def latency_ms(index, queries: np.ndarray, k: int = 10) -> dict[str, float]:
    """p50 / p95 milliseconds of single queries (after one warm-up query)."""
    index.search(queries[:1], k)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        index.search(q[None, :], k)
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50": round(float(np.percentile(times, 50)), 3),
            "p95": round(float(np.percentile(times, 95)), 3)}


def query_latency(cache_dir: Path, uri: str, queries: int, dim: int, items: int
                  ) -> dict[str, dict[str, float]]:
    """Exact and IVF single-query latency over the cached vectors (queries unseen, clustered)."""
    from core.index.store import build_index
    from core.storage.repository import Repository, connect

    repo = Repository(connect(uri), DB_NAME)
    skus, matrix, _ = cached_vectors(repo, MODEL, VectorCache(cache_dir))
    q = synthetic_batch(items + 1, queries, dim, max(1, items // CLUSTER_SIZE))
    out = {}
    for kind in ("exact", "ivf"):
        index = build_index(skus, matrix, kind=kind, model_id=MODEL, normalised=True)
        out[kind] = latency_ms(index, q)
        del index
    return out


def add_and_pack(uri: str, cache_dir: Path, items: int, dim: int, added: int = ADDED
                 ) -> dict[str, float]:
    """Add ``added`` vectors, then pack: from the packed state and the new rows, and (the
    reference) by reading every vector document back. Seconds of each."""
    from core.storage.repository import Repository, connect

    repo = Repository(connect(uri), DB_NAME)
    before = (repo.vectors_version(MODEL), repo.vector_count(MODEL))
    new = [sku(i) for i in range(items, items + added)]
    vectors = synthetic_batch(items, added, dim, max(1, items // CLUSTER_SIZE))
    repo.put_vectors(MODEL, new, vectors)
    t0 = time.perf_counter()
    source = pack_added(repo, MODEL, VectorCache(cache_dir), before, [(new, vectors)])
    quick = time.perf_counter() - t0
    if source != "added":
        raise RuntimeError(f"the added vectors were packed from {source}")
    t0 = time.perf_counter()
    skus, matrix = repo.vectors(MODEL)
    write_snapshot(repo, MODEL, repo.vectors_version(MODEL), skus, matrix)
    VectorCache(Path(cache_dir) / "reference").save(MODEL, repo.vectors_version(MODEL), skus,
                                                     matrix)
    return {"added": added, "pack_added_s": quick, "pack_reading_back_s": time.perf_counter() - t0}


def run_scale(items: int, *, dim: int = 128, queries: int = 200, batch: int = 10_000,
              progress: Callable[[int, int], None] | None = None) -> dict:
    """The whole benchmark on a throw-away embedded server in a temporary folder."""
    from core.storage.embedded import ensure_server
    from core.storage.repository import Repository, connect

    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        server = ensure_server(Path(tmp))
        try:
            repo = Repository(connect(server.uri, embedded=True), DB_NAME)
            rate = insert(repo, items, dim, batch=batch, progress=progress)
            cache_dir = Path(tmp) / "cache"
            cold = _child_load(server.uri, cache_dir, "cold")
            packed = _child_load(server.uri, Path(tmp) / "no-cache", "snapshot")
            warm = _child_load(server.uri, cache_dir, "warm")
            query_ms = query_latency(cache_dir, server.uri, queries, dim, items)
            add = add_and_pack(server.uri, cache_dir, items, dim)
        finally:
            server.stop()
    vector_bytes = cold["vector_bytes"]
    return {
        "items": items, "dim": dim,
        "insert_vectors_per_s": round(rate),
        "cold_load_vectors_per_s": round(cold["vectors"] / cold["seconds"]),
        "cold_load_s": round(cold["seconds"], 2),
        # this process's own CPU in the cold load (pymongo + decoding into the array); the
        # rest of the wall time is the server answering
        "cold_load_client_cpu_s": round(cold["cpu_s"], 2),
        "cache_write_s": round(cold["cache_write_s"], 2),
        # packing the loaded vectors into the snapshot (blocks + header) after the cold load
        "snapshot_write_s": round(cold["snapshot_write_s"], 2),
        # a fresh process without disk cache reading that snapshot
        "snapshot_load_vectors_per_s": round(packed["vectors"] / packed["seconds"]),
        "snapshot_load_s": round(packed["seconds"], 2),
        "snapshot_load_client_cpu_s": round(packed["cpu_s"], 2),
        "snapshot_peak_memory_ratio": round(packed["peak_added_bytes"] / vector_bytes, 3),
        "warm_load_s": round(warm["seconds"], 3),
        "peak_memory_ratio": round(cold["peak_added_bytes"] / vector_bytes, 3),
        "warm_peak_memory_ratio": round(warm["peak_added_bytes"] / vector_bytes, 3),
        "vector_mb": round(vector_bytes / 2**20, 1),
        "query_ms": query_ms, "queries": queries,
        # packing after adding ADDED vectors: from the packed state + the new rows, against
        # reading every vector back (as one process measured it)
        "added_vectors": add["added"], "pack_added_s": round(add["pack_added_s"], 2),
        "pack_reading_back_s": round(add["pack_reading_back_s"], 2),
        "pack_added_speedup": round(add["pack_reading_back_s"] / max(add["pack_added_s"], 1e-9),
                                    1),
    }


def main(argv: list[str] | None = None) -> int:
    """Child entry point: one load measurement as JSON on stdout."""
    p = argparse.ArgumentParser(prog="python -m core.index.scalebench")
    p.add_argument("--uri", required=True)
    p.add_argument("--cache", required=True, type=Path)
    p.add_argument("--mode", choices=("cold", "snapshot", "warm"), required=True)
    args = p.parse_args(argv)
    json.dump(measure_load(args.uri, args.cache, args.mode), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
