"""Widgets the pages share: product cards, image grids, and handing an item to another page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.images import IMAGE_EXTS
from core.storage import Item, data_file
from core.tagging import labels as tagging_labels
from pages.common import settings


def image_path(item: Item) -> Path:
    return data_file(settings().data_dir, item.image_path)


# the formats ingest and search take; the uploaders take any file and say why one is refused
# (a browser-side type filter only marks a refused file with an icon)
IMAGE_TYPES = [ext.lstrip(".") for ext in IMAGE_EXTS]
PHOTO_HELP = "JPEG, PNG, WebP, GIF, BMP or TIFF; any other file is refused with the reason."
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
               on_refine: str | None = None, captions: Sequence[str] | None = None,
               pick_help: str | None = None, refine_help: str | None = None) -> str | None:
    """Show items as a grid of pictures; with on_pick, a button under each returns the sku.

    With on_refine, a second button under each hands the item to the Refine page;
    ``captions`` replace the default ones (score · category · colour · pattern). Button
    labels stay short (cards are narrow on small screens); ``*_help`` say the rest.
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
            if on_pick and st.button(on_pick, key=f"{key}-{item.sku}-{i}", help=pick_help):
                picked = item.sku
            if on_refine and st.button(on_refine, key=f"{key}-refine-{item.sku}-{i}",
                                       help=refine_help):
                refine = item.sku
    if refine:
        open_in_refine(refine)
    return picked


REVIEW_PAGE_SIZES = (8, 16, 32, 48)


def tag_review(repo) -> None:
    """The least sure predicted tags of a field, a page at a time, to confirm or fix and save
    together (saved values count as given by a person: tagging keeps them), or to skip."""
    from core.tagging.catalog import least_sure, predicted_values

    words = tagging_labels.FIELD_WORDS
    left, middle, right = st.columns([2, 1, 1])
    name = left.radio("Tag", list(words), format_func=lambda n: words[n].capitalize(),
                      index=list(words).index("color"), horizontal=True, key="review_field")
    counts = predicted_values(repo, name)
    key = f"review_value-{name}"
    if st.session_state.get(key) not in (None, *counts):  # all of that value were checked
        st.session_state.pop(key)
    value = middle.selectbox("Predicted as", [None, *counts], key=key,
                             format_func=lambda v: "any" if v is None else f"{v} ({counts[v]:,})",
                             help="Check only the items predicted as this value (e.g. navy, "
                                  "often mistaken for black).")
    per_page = right.selectbox("Per page", REVIEW_PAGE_SIZES, key="review_per_page")
    skip_key = f"review_skip-{name}-{value}"
    skipped = st.session_state.get(skip_key, 0)
    items, total = least_sure(repo, name, value=value, limit=per_page, skip=skipped)
    if not items and skipped:  # skipped past the end: back to the least sure
        skipped = st.session_state[skip_key] = 0
        items, total = least_sure(repo, name, value=value, limit=per_page)
    if note := st.session_state.pop("review_saved", None):
        st.success(note)
    if not items:
        st.caption(f"No item has a predicted {words[name]}: every one was given or checked.")
        return
    which = f" of {value}" if value else ""
    st.caption(f"{total:,} items have a predicted {words[name]}{which}; least sure first, "
               f"these are {skipped + 1:,}–{skipped + len(items):,}. Fix the wrong ones, then "
               "save: every value shown is saved as checked, and tagging keeps it. Skip moves "
               "on without saving.")
    with st.form(f"review-{name}", border=False):
        picks = _review_picks(items, name)
        save_col, skip_col = st.columns([1, 3])
        saved = save_col.form_submit_button(f"Save these {len(items)}", type="primary")
        skip = skip_col.form_submit_button(f"Skip these {len(items)}")
    if skip:
        st.session_state[skip_key] = skipped + len(items)
        st.rerun()
    if saved:
        _save_review(repo, name, picks)


def _review_picks(items, name: str) -> dict[str, str | None]:
    """Each item's picture, sku and predicted value with a select of the field's values
    (four columns); returns sku -> the value chosen."""
    from core.tagging.catalog import tag_vocabulary

    options = list(tag_vocabulary(name))
    picks = {}
    cols = st.columns(4)
    for i, item in enumerate(items):
        with cols[i % 4]:
            path = image_path(item)
            if path.exists():
                st.image(str(path), width="stretch")
            st.caption(f"{item.sku} · {tagging_labels.field_label(item, name)}")
            current = tagging_labels.value_of(item, name)
            picks[item.sku] = st.selectbox(
                tagging_labels.FIELD_WORDS[name], options,
                index=options.index(current) if current in options else None,
                key=f"review-{name}-{item.sku}", label_visibility="collapsed")
    return picks


def _save_review(repo, name: str, picks: dict[str, str | None]) -> None:
    """Save every value shown as checked (supplied), or say why nothing was saved."""
    from core.tagging.catalog import correct_many

    chosen = {sku: {name: v} for sku, v in picks.items() if v}
    try:
        correct_many(repo, chosen)
    except (KeyError, ValueError) as exc:
        st.error(str(exc.args[0]) if exc.args else str(exc))
        return
    st.session_state["review_saved"] = (f"Saved the {tagging_labels.FIELD_WORDS[name]} of "
                                        f"{len(chosen)} items.")
    st.rerun()
