"""What every page needs first: settings, the repository and models as cached resources, the
database guard and the links between pages (the shared widgets are in pages/cards.py). Pages
stay thin: read widgets -> call core -> render."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.config import Settings, SettingsError, load_settings
from core.storage import (
    DatabaseUnavailable,
    Repository,
    database_label,
    is_connection_loss,
    lost_on_page,
    open_repository,
)


def enter_through_app() -> None:
    """Re-run through app.py when Streamlit ran this page on its own.

    With a ``pages/`` folder, the first script run after the server starts uses Streamlit's
    folder-based navigation until app.py has called ``st.navigation`` once: a first visit to
    a deep link (``/search``) would run the page without the app's menu and page config (and
    list every module of ``pages/`` as a page). Switching that mode off and re-running makes
    app.py's navigation resolve the same URL (same page hash) with the real menu.
    """
    from streamlit.runtime.pages_manager import PagesManager

    # Only on a session's first run: a re-run would drop a pending widget event (AppTest
    # turns the folder mode back on before every run of app.py).
    if PagesManager.uses_pages_directory and not st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()


def embed_with_progress(repo: Repository, cfg: Settings, model_id: str, why: str) -> None:
    """Embed the items ``model_id`` lacks, with a progress bar."""
    from core.catalog_jobs import embed_missing

    bar = st.progress(0.0, text=why)
    embed_missing(repo, cfg, model_id, progress=lambda d, t: bar.progress(
        min(d / t, 1.0) if t else 1.0, text=f"{why}: {d:,}/{t:,}"))
    bar.empty()


def linked_item(repo: Repository) -> str | None:
    """The catalog item a link names (``?item=SKU``), once per link; an unknown one is said
    so on the page and ignored."""
    sku = st.query_params.get("item")
    if not sku or st.session_state.get("linked_item") == sku:
        return None
    link_item(sku)
    if repo.get_item(sku) is None:
        st.warning(f"The link names item {sku!r}, which is not in the catalog.")
        return None
    return sku


def link_item(sku: str) -> None:
    """Make the page's address name ``sku`` (``?item=SKU``), so a link to it opens it."""
    st.session_state["linked_item"] = st.query_params["item"] = sku


def stop_with(title: str, exc: Exception) -> NoReturn:
    """Show ``title`` and the error's one-line reason on the page, then stop the script."""
    st.error(f"**{title}** {exc}")
    st.stop()
    raise exc  # unreachable: st.stop() raises


@st.cache_resource(show_spinner=False)
def _settings() -> Settings:
    return load_settings()


def settings() -> Settings:
    """The cached settings, or the configuration error on the page and stop."""
    try:  # the encoder activated on the Models page (its pointer file) applies at once
        return _settings().with_active_model()
    except SettingsError as exc:
        stop_with("Configuration error.", exc)


@st.cache_resource(show_spinner="Connecting to the catalog database…")
def _repository() -> Repository:
    repo = open_repository(settings())
    _OPENED["uri"] = repo.conn.uri  # outage messages name the server actually in use
    return repo


_OPENED: dict[str, str] = {}


def repository() -> Repository:
    """The cached repository; reconnects (restarting the embedded server) if it went away."""
    repo = _repository()
    if not repo.ping():
        _repository.clear()
        repo = _repository()
    return repo


def repo_or_stop() -> Repository:
    """The repository, or a clear error on the page (with the masked URI) and stop."""
    try:
        return repository()
    except DatabaseUnavailable as exc:
        stop_with("Database unavailable.", exc)


@contextlib.contextmanager
def database_guard() -> Iterator[None]:
    """Around a page run (app.py): a database lost part-way is one line on the page (masked
    URI, short cause) instead of pymongo's traceback; the next run reconnects."""
    try:
        yield
    except DatabaseUnavailable as exc:
        st.error(f"**Database unavailable.** {exc}")
    except Exception as exc:
        if not is_connection_loss(exc):
            raise
        _repository.clear()
        st.error(f"**Database unavailable.** "
                 f"{lost_on_page(database_label(settings(), _OPENED.get('uri')), exc)}")


def require_catalog(repo: Repository) -> int:
    """Number of items, or an explanation and stop when the catalog is empty."""
    n = repo.count_items()
    if n == 0:
        st.info("The catalog is empty. Build the demo catalog or ingest a folder on the Home page.")
        home_link()
        st.stop()
    return n


def home_link() -> None:
    """A link to the Home page; a plain one when the page runs outside ``st.navigation``.

    st.page_link only resolves pages registered with st.navigation (app.py); a page run on its
    own (AppTest of one page, Streamlit's pages/ auto-discovery) gets a markdown link instead.
    """
    try:
        st.page_link("pages/home.py", label="Go to Home", icon="🏠")
    except StreamlitAPIException:
        st.markdown("🏠 [Go to Home](/) (or open **Home** from the page menu)")


def page_link(page: str, label: str, icon: str) -> None:
    """st.page_link, or the page's name in bold when the page runs outside ``st.navigation``
    (see :func:`home_link`)."""
    try:
        st.page_link(page, label=label, icon=icon)
    except StreamlitAPIException:
        st.markdown(f"{icon} **{label}** (in the page menu)")


def resource(factory: str, *args: Any) -> Any:
    """A cached heavy object made by a core factory ``"module:function"`` as fn(settings, *args).

    Models, vector indexes and text towers load once per process through here, and again
    when a file in WEIGHTS_DIR changes (say `train tune` or a new encoder lands while the app
    runs): a model loaded from the old file would embed queries unlike the catalog.
    """
    from core.models.manifest import weights_stamp

    current = settings()  # keyed by the active encoder too: an activation swaps models
    return _resource(factory, args, (current.backbone, weights_stamp(current.weights_dir)))


@st.cache_resource(show_spinner="Loading model…", max_entries=32)
def _resource(factory: str, args: tuple, stamp: tuple) -> Any:  # noqa: ARG001 (cache key)
    module, _, name = factory.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn(settings(), *args)
