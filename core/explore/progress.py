"""Progress reporting for long explorer runs.

A progress callback takes ``(fraction, message)`` with fraction in [0, 1]; the CLI feeds it to
tqdm, the page to ``st.progress``. scikit-learn's t-SNE has no callback, but with ``verbose=2``
it prints one line per 50 iterations: :func:`thread_stdout` routes the lines printed by the
current thread to a handler (and everything else to the real stdout), so the optimisation
reports real progress without touching scikit-learn internals.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from core.progress import FractionProgress

_lock = threading.Lock()
_handlers: dict[int, Callable[[str], None]] = {}
_buffers: dict[int, str] = {}


def report(progress: FractionProgress | None, fraction: float, message: str) -> None:
    """Call ``progress`` (if any) with the fraction clamped to [0, 1]."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def scaled(progress: FractionProgress | None, start: float, end: float) -> FractionProgress | None:
    """A callback mapping [0, 1] onto [start, end] of ``progress`` (one stage of a longer run)."""
    if progress is None:
        return None
    return lambda f, m: report(progress, start + (end - start) * f, m)


class _ThreadTap:
    """A ``sys.stdout`` stand-in: registered threads' lines go to their handler."""

    def __init__(self, passthrough: Any):
        self.passthrough = passthrough

    def write(self, text: str) -> int:
        ident = threading.get_ident()
        handler = _handlers.get(ident)
        if handler is None:
            return self.passthrough.write(text)
        pending = _buffers.get(ident, "") + text
        *lines, rest = pending.split("\n")
        _buffers[ident] = rest
        for line in lines:
            if line.strip():
                handler(line.strip())
        return len(text)

    def flush(self) -> None:
        self.passthrough.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.passthrough, name)


@contextmanager
def thread_stdout(handler: Callable[[str], None]) -> Iterator[None]:
    """Send whole lines printed by this thread to ``handler`` while the block runs."""
    ident = threading.get_ident()
    with _lock:
        if not isinstance(sys.stdout, _ThreadTap):
            sys.stdout = _ThreadTap(sys.stdout)
        _handlers[ident] = handler
        _buffers[ident] = ""
    try:
        yield
    finally:
        with _lock:
            _handlers.pop(ident, None)
            _buffers.pop(ident, None)
            if not _handlers and isinstance(sys.stdout, _ThreadTap):
                sys.stdout = sys.stdout.passthrough
