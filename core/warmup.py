"""Import the heavy modules the pages use (torch, scikit-learn, plotly and the project's
models) once per process, in the background: the first visit to Search, Refine, Outfits or
Explore then does not wait seconds on a blank page for them."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence

log = logging.getLogger(__name__)

MODULES = ("core.search.pipeline", "core.feedback.service", "core.outfits.service",
           "core.explore.service", "core.customers.service", "plotly.graph_objects")
_lock = threading.Lock()
_started: set[tuple[str, ...]] = set()


def warm_imports(modules: Sequence[str] = MODULES) -> threading.Thread | None:
    """Start importing ``modules`` in a daemon thread, once per process (None when already
    started). A page that needs one of them meanwhile waits only for what is left."""
    key = tuple(modules)
    with _lock:
        if key in _started:
            return None
        _started.add(key)
    thread = threading.Thread(target=_import_all, args=(key,), name="warm-imports",
                              daemon=True)
    thread.start()
    return thread


def _import_all(modules: Sequence[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a page that needs it will say what is wrong
            log.warning("warm-up: could not import %s: %s", name, exc)
