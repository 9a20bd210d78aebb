"""Worker pools that are safe to start from any host process (CLI, pytest, Streamlit)."""

from __future__ import annotations

import multiprocessing as mp
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool


@contextmanager
def spawn_pool(workers: int) -> Iterator[Pool]:
    """A 'spawn' process pool whose workers never re-run the host's __main__.

    Spawned workers normally re-import the parent's ``__main__``. Streamlit (the app and
    AppTest) installs a page script as ``__main__``; re-running it in a worker breaks the
    worker and the pool then waits forever. Workers only need the importable task function,
    so ``__main__`` is hidden while the pool starts its processes.
    """
    real_main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        pool = mp.get_context("spawn").Pool(workers)
    finally:
        if real_main is not None:
            sys.modules["__main__"] = real_main
    with pool:
        yield pool
