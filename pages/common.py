"""The one UI module: cached resources (settings, repository, models, indexes) and widgets
shared by the pages. Pages stay thin: read widgets -> call core -> render."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.config import Settings, SettingsError, load_settings
from core.images import IMAGE_EXTS
from core.storage import (
    DatabaseUnavailable,
    Item,
    Repository,
    data_file,
    database_label,
    is_connection_loss,
    lost_on_page,
    open_repository,
)
from core.tagging import labels as tagging_labels


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


def image_path(item: Item) -> Path:
    return data_file(settings().data_dir, item.image_path)


# what the photo uploaders accept: the formats ingest and search take
IMAGE_TYPES = [ext.lstrip(".") for ext in IMAGE_EXTS]
REFINE_PAGE = "pages/refine.py"
OUTFITS_PAGE = "pages/outfits.py"


def hand_over(page: str, values: dict[str, Any], where_to_go: str) -> None:
    """Set session values for another page and go there. st.switch_page only works under
    st.navigation (app.py); elsewhere ``where_to_go`` is shown instead."""
    st.session_state.update(values)
    try:
        st.switch_page(page)
    except StreamlitAPIException:
        st.info(where_to_go)


def open_in_refine(sku: str) -> None:
    """Hand a catalog item to the Refine page, which starts from it, and go there.

    Sets ``search_selected_sku`` (offered again by Refine's start options) and
    ``refine_handoff`` (consumed by Refine as its starting reference).
    """
    hand_over(REFINE_PAGE, {"search_selected_sku": sku, "refine_handoff": sku},
              f"**{sku}** is ready to refine: open **Refine** from the page menu and describe "
              "what to change.")


def open_in_outfits(sku: str) -> None:
    """Hand a catalog item to the Outfits page, which adds it to the look (``outfits_handoff``),
    and go there."""
    hand_over(OUTFITS_PAGE, {"outfits_handoff": sku},
              f"**{sku}** is ready to style: open **Outfits** from the page menu to complete "
              "the look.")


def product_card(item: Item, score: float | None = None, note: str | None = None) -> None:
    """Name, price · brand, category · colour · pattern (predicted marked, with a tooltip)
    and a small match score; ``note`` replaces the score line (e.g. a rank or a date)."""
    card = tagging_labels.product_card(item, score)
    lines = [f"**{tagging_labels.md_escape(card['title'])}**"]
    if card["offer"]:
        lines.append(tagging_labels.md_escape(card["offer"]))
    st.markdown("  \n".join(lines))
    small = note if note is not None else " · ".join(
        b for b in (card["facts"], card["score"]) if b)
    st.caption(small, help=tagging_labels.tags_tooltip(item))


def image_grid(items: Sequence[Item], *, scores: Sequence[float] | None = None, columns: int = 5,
               key: str | None = None, on_pick: str | None = None,
               on_refine: str | None = None, captions: Sequence[str] | None = None
               ) -> str | None:
    """Show items as a grid of pictures; with on_pick, a button under each returns the sku.

    With on_refine, a second button under each hands the item to the Refine page;
    ``captions`` replace the default ones (score · category · colour · pattern).
    """
    picked = refine = None
    cols = st.columns(columns)
    for i, item in enumerate(items):
        with cols[i % columns]:
            path = image_path(item)
            if path.exists():
                st.image(str(path), width="stretch")
            else:
                st.warning(f"image missing: {item.sku}")
            product_card(item, scores[i] if scores is not None else None,
                         captions[i] if captions is not None else None)
            if on_pick and st.button(on_pick, key=f"{key}-{item.sku}-{i}"):
                picked = item.sku
            if on_refine and st.button(on_refine, key=f"{key}-refine-{item.sku}-{i}"):
                refine = item.sku
    if refine:
        open_in_refine(refine)
    return picked
