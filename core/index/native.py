"""Native fused scoring + top-k for single queries (C, compiled at first use, loaded by ctypes).

On matrices that sit in cache a single query costs little more than its per-call overhead
(torch dispatch, topk, tensor <-> numpy); the C kernel in ``native_topk.c`` scores every row
and keeps the k best in one pass, called straight from numpy. It is built once with the system
C compiler into a per-user cache folder, keyed by a hash of the source, the compiler, its flags
and the CPU, so a stale build is never reused (older builds in that folder are removed once a
new one is in place). Without a compiler (or when the build or its
self-check fails) one warning is logged and the index keeps its torch kernels;
FASHION_NATIVE_TOPK=0 in the environment turns it off.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("native_topk.c")
COMPILER = os.environ.get("CC", "cc")
FLAGS = ("-O3", "-march=native", "-fPIC", "-shared", "-std=c99")
COMPILE_TIMEOUT_S = 120
DISABLE_ENV = "FASHION_NATIVE_TOPK"  # "0" keeps the torch kernels

_lib: ctypes.CDLL | None = None
_state = "untried"  # untried | ok | failed
_lock = threading.Lock()


def cache_dir() -> Path:
    """Per-user folder for the built library (the XDG cache folder)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fashion-studio" / "native"


def _cache_dirs() -> list[Path]:
    """Where a build may live: the user cache, else a per-user folder in the temp folder."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return [cache_dir(), Path(tempfile.gettempdir()) / f"fashion-studio-{uid}" / "native"]


def _load_or_build(source: bytes) -> ctypes.CDLL:
    """Load the cached build for this source/compiler/CPU, building it when missing."""
    name = f"topk-{build_key(source)}.so"
    dirs = _cache_dirs()
    for i, folder in enumerate(dirs):
        target = folder / name
        try:
            if not target.exists():
                _compile(target)
                _prune(folder, keep=target)
            return _bind(ctypes.CDLL(str(target)))
        except OSError:  # unwritable folder (or unloadable file): try the next one
            if i == len(dirs) - 1:
                raise
    raise AssertionError("unreachable")


def _cpu_id() -> str:
    """The CPU as -march=native sees it: architecture plus the feature flags."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = line
                break
    except OSError:
        pass
    return f"{platform.machine()}|{platform.processor()}|{flags}"


def _prune(folder: Path, keep: Path) -> None:
    """Remove other builds (older source, compiler or flags) from ``folder``. A process that
    has one loaded keeps its mapping: unlinking a loaded library is safe."""
    for old in folder.glob("topk-*.so"):
        if old != keep:
            try:
                old.unlink()
            except OSError:
                pass


@functools.cache
def compiler_version(compiler: str) -> str:
    """The first line of ``compiler --version`` ("" when it cannot be run)."""
    command = shlex.split(compiler)
    if not command or shutil.which(command[0]) is None:
        return ""
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stdout.strip().splitlines() or [""])[0]


def build_key(source: bytes) -> str:
    """Hash of everything the build depends on: source, compiler (and its version), flags,
    CPU."""
    text = "\n".join([COMPILER, compiler_version(COMPILER), " ".join(FLAGS),
                      _cpu_id()]).encode()
    return hashlib.sha256(source + b"\0" + text).hexdigest()[:20]


def _compile(target: Path) -> None:
    """Build ``target`` from SOURCE: temp file in the same folder, then atomic rename."""
    command = shlex.split(COMPILER)  # CC may carry a wrapper: "ccache gcc"
    if not command or shutil.which(command[0]) is None:
        raise RuntimeError(f"no C compiler {COMPILER!r} on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        done = subprocess.run([*command, *FLAGS, "-o", tmp, str(SOURCE), "-lm"],
                              capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"{COMPILER} failed: {done.stderr.strip()[:300]}")
        os.replace(tmp, target)  # two processes may build at once: the last rename wins
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, n = ctypes.c_void_p, ctypes.c_long
    lib.topk_f32.argtypes = [p, n, n, p, p, n, p, n, p, p]
    lib.topk_f32.restype = n
    lib.topk_f16.argtypes = [p, p, n, n, p, p, n, p, n, ctypes.c_float, p, p, p]
    lib.topk_f16.restype = n
    return lib


def _self_check(lib: ctypes.CDLL) -> None:
    """Compare the kernel with numpy on a small odd-sized problem (both row types)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((203, 37)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = rng.standard_normal(37).astype(np.float32)
    scan = NativeScan(x, x.astype(np.float16), lib=lib)
    want = np.sort(x @ q)[::-1][:9]
    for half in (False, True):
        s, _, _ = scan.topk(q, 9, half=half, margin=0.01)
        if not np.allclose(s, want, atol=1e-4):
            raise RuntimeError("native kernel disagrees with numpy")


def library() -> ctypes.CDLL | None:
    """The loaded kernel library, building it once per process; None when unavailable."""
    global _lib, _state
    with _lock:
        if _state == "untried" and os.environ.get(DISABLE_ENV, "") not in {"", "1"}:
            log.info("native top-k kernel disabled by %s", DISABLE_ENV)
            _state = "failed"
        if _state == "untried":
            try:
                lib = _load_or_build(SOURCE.read_bytes())
                _self_check(lib)
                _lib, _state = lib, "ok"
                log.debug("native top-k kernel loaded: %s", lib._name)
            except Exception as exc:  # no compiler, read-only cache, failed build, ...
                log.warning("native top-k kernel unavailable (%s); using torch kernels",
                            str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__)
                _state = "failed"
        return _lib


def available() -> bool:
    """True when the native kernel is (or could just now be) built and loaded."""
    return library() is not None


def _ptr(a: np.ndarray | None) -> int | None:
    return None if a is None else a.__array_interface__["data"][0]


class _Buffers:
    """One thread's query and result buffers (their addresses are looked up once)."""

    def __init__(self, d: int, k: int):
        self.k = k
        self.query = np.empty(d, dtype=np.float32)
        self.scores = np.empty(k, dtype=np.float32)
        self.rows = np.empty(k, dtype=np.int64)
        self.seen = ctypes.c_long(0)
        self.ptrs = (_ptr(self.query), _ptr(self.scores), _ptr(self.rows))


class NativeScan:
    """Single-query top-k over one contiguous float32 matrix (and optionally its float16 copy).

    Keeps references to the arrays it was given: they must not be modified while in use.
    Thread-safe: each thread has its own query and result buffers.
    """

    def __init__(self, matrix: np.ndarray, half: np.ndarray | None = None, *,
                 lib: ctypes.CDLL | None = None):
        lib = lib or library()
        if lib is None:
            raise RuntimeError("native top-k kernel unavailable")
        if matrix.dtype != np.float32 or matrix.ndim != 2 or not matrix.flags.c_contiguous:
            raise ValueError("matrix must be a C-contiguous float32 n x d array")
        if half is not None and (half.dtype != np.float16 or half.shape != matrix.shape
                                 or not half.flags.c_contiguous):
            raise ValueError("half must be a C-contiguous float16 array shaped like matrix")
        self.matrix, self.half = matrix, half
        self.n, self.d = matrix.shape
        self._f32, self._f16 = lib.topk_f32, lib.topk_f16
        self._x, self._xh = _ptr(matrix), _ptr(half)
        self._local = threading.local()

    def _buffers(self, k: int) -> _Buffers:
        buf = getattr(self._local, "buf", None)
        if buf is None or buf.k < k:
            buf = self._local.buf = _Buffers(self.d, max(k, 64))
        return buf

    def best(self, query: np.ndarray, k: int, half: bool = False, margin: float = 0.0
             ) -> tuple[np.ndarray, np.ndarray, int]:
        """``topk`` over every row: the lean path for one query (a few microseconds)."""
        if query.shape != (self.d,):
            raise ValueError(f"query must be a vector of {self.d} values, got {query.shape}")
        k = min(k, self.n) if k > 0 else 0
        buf = getattr(self._local, "buf", None)
        if buf is None or buf.k < k:
            buf = self._buffers(k)
        buf.query[:] = query
        q, out_s, out_r = buf.ptrs
        if half and self._xh is not None:
            got = self._f16(self._xh, self._x, self.n, self.d, q, None, 0, None, k, margin,
                            out_s, out_r, ctypes.byref(buf.seen))
        elif half:
            raise ValueError("no float16 copy to scan")
        else:
            got = self._f32(self._x, self.n, self.d, q, None, 0, None, k, out_s, out_r)
        if got < 0:
            raise MemoryError("native top-k could not allocate its buffers")
        return buf.scores[:got].copy(), buf.rows[:got].copy(), buf.seen.value if half else 0

    def topk(self, query: np.ndarray, k: int, *, ids: np.ndarray | None = None,
             excluded: np.ndarray | None = None, half: bool = False, margin: float = 0.0
             ) -> tuple[np.ndarray, np.ndarray, int]:
        """(scores, rows, rows re-scored) of the k best candidates, best first.

        ``query``: a float vector of d values. ``ids``: int64 candidate rows (default all);
        ``excluded``: bool (n,), True = never returned. ``half`` scans the float16 copy and
        re-scores from float32 every row within ``margin`` * |query| of the k-th approximate
        score. Fewer than k results come back when there are fewer candidates.
        """
        if query.shape != (self.d,):
            raise ValueError(f"query must be a vector of {self.d} values, got {query.shape}")
        k = max(0, min(int(k), self.n if ids is None else len(ids)))
        buf = self._buffers(k)
        buf.query[:] = query
        q, out_s, out_r = buf.ptrs
        ids_p = excl_p = None
        if ids is not None:
            ids_p = _ptr(self._checked_ids(ids))
        if excluded is not None:
            if excluded.dtype != np.bool_ or excluded.shape != (self.n,) or \
                    not excluded.flags.c_contiguous:
                raise ValueError(f"excluded must be a contiguous bool array of {self.n} rows")
            excl_p = _ptr(excluded)
        m = 0 if ids is None else len(ids)
        if half:
            if self._xh is None:
                raise ValueError("no float16 copy to scan")
            got = self._f16(self._xh, self._x, self.n, self.d, q, ids_p, m, excl_p, k, margin,
                            out_s, out_r, ctypes.byref(buf.seen))
        else:
            got = self._f32(self._x, self.n, self.d, q, ids_p, m, excl_p, k, out_s, out_r)
        if got < 0:
            raise MemoryError("native top-k could not allocate its buffers")
        return buf.scores[:got].copy(), buf.rows[:got].copy(), buf.seen.value if half else 0

    def _checked_ids(self, ids: np.ndarray) -> np.ndarray:
        if ids.dtype != np.int64 or ids.ndim != 1 or not ids.flags.c_contiguous:
            raise ValueError("ids must be a contiguous int64 vector")
        if len(ids) and (ids.min() < 0 or ids.max() >= self.n):
            raise ValueError(f"ids must be row numbers below {self.n}")
        return ids
