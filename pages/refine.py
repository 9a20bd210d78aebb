"""Refine: start from a photo, a catalog item or a search result, then type what to change
("in red", "with long sleeves", "make it a dress") turn after turn; the starting item and each
turn's choice stay visible as a strip, with history and step back."""

import streamlit as st

from core.feedback.model import WeightsError
from core.feedback.params import RefineParams
from core.feedback.session import MAX_TEXT, FeedbackRejected, RefineSession, short_text
from core.feedback.text import TextTowerError
from core.images import ImageRejected
from core.index import NoVectors
from core.models.registry import MissingWeights
from core.ranges import widget
from core.tagging.labels import md_escape, shape_caption
from core.taxonomy import FAMILY_WORDS
from pages.cards import PHOTO_HELP, image_grid, image_path, product_card
from pages.common import enter_through_app, repo_or_stop, require_catalog, resource

enter_through_app()

REFINER = "core.feedback.service:refiner"
EXAMPLES = "e.g. “in red”, “with long sleeves”, “darker and striped”, “make it a dress”"
PLACEHOLDER = "e.g. longer sleeves"  # fits the narrow input column from 1024 px wide up
STRIP = 6  # references shown in the strip: the start and the latest choices

st.title("💬 Refine")
st.caption("Pick a starting garment, then say what to change. Each turn starts from the item "
           "you choose below (or the top result).")
repo = repo_or_stop()
require_catalog(repo)
state = st.session_state
session = RefineSession.from_dict(state.get("refine"))
handoff = state.pop("refine_handoff", None)  # "Refine with text" on Search: start from it
if handoff and repo.get_item(handoff) is not None:
    session.start_item(handoff)
    state["refine"] = session.to_dict()

try:
    refiner = resource(REFINER)
except (WeightsError, TextTowerError, ValueError) as exc:
    st.error(f"**Refinement is not ready.** {exc}")
    st.stop()
if refiner.warning:
    st.warning(refiner.warning)

with st.sidebar:
    st.header("Refine")
    k = st.slider("Results", **widget(RefineParams, "k"), key="refine_k")
    keep_family = st.toggle("Keep the garment type", value=True, key="refine_keep_family",
                            help="Stay among tops, dresses, shoes, … like the reference, "
                                 "unless your feedback names another kind of garment.")
    if st.button("Start over", key="refine_reset", width="stretch"):
        state.pop("refine", None)
        st.rerun()


def _save_and_rerun() -> None:
    state["refine"] = session.to_dict()
    st.rerun()


def _name(sku: str | None) -> str:
    item = repo.get_item(sku) if sku else None
    return (item.name or item.sku) if item is not None else str(sku)


def _choose_start() -> None:
    """Start options: the item chosen on Search, an upload, or a catalog pick."""
    chosen = state.get("search_selected_sku")
    if chosen and repo.get_item(chosen) is not None:
        if st.button(f"Use the item chosen on Search ({_name(chosen)})", key="refine_from_search"):
            session.start_item(chosen)
            _save_and_rerun()
    tab_pick, tab_up = st.tabs(["🗂️ From the catalog", "📤 Upload a photo"])
    with tab_pick:
        if st.button("Shuffle", key="refine_shuffle") or "refine_sample" not in state:
            state["refine_sample"] = [it.sku for it in repo.sample_items(10)]
        picked = image_grid(repo.get_items(state["refine_sample"]), columns=5,
                            key="refine_pick", on_pick="Start from this")
        if picked:
            session.start_item(picked)
            _save_and_rerun()
    with tab_up:
        photo = st.file_uploader("Garment photo", help=PHOTO_HELP, key="refine_upload")
        if photo is not None and st.button("Start from this photo", key="refine_use_photo"):
            try:
                ref = refiner.photo_reference(photo.getvalue(), name=photo.name)
            except ImageRejected as exc:
                st.error(f"**Could not use {exc.file}**: {exc.reason}")
                return
            except MissingWeights as exc:
                st.error(f"**Photos need the image model.** {exc}")
                return
            session.start_photo(ref, photo.getvalue(), photo.name)
            _save_and_rerun()


def _strip() -> None:
    """The starting reference, then each turn's choice; the last one is the next reference."""
    entries = session.strip()
    entries = entries[:1] + entries[1:][-(STRIP - 1):]
    cols = st.columns(STRIP)
    for i, (col, (label, ref)) in enumerate(zip(cols, entries, strict=False)):
        note = label + (" · next turn starts here" if i == len(entries) - 1 else "")
        with col:
            if ref["kind"] == "photo":
                st.image(session.photo["bytes"], width="stretch")
                st.caption(**session.photo_caption(note))
                if i == len(entries) - 1 and session.set_photo_colour(st.selectbox(
                        **session.colour_widget(), key="refine_photo_colour")):
                    _save_and_rerun()  # "darker" now starts from the colour the shopper gave
                continue
            item = repo.get_item(ref["sku"])
            if item is not None:
                st.image(str(image_path(item)), width="stretch")
                product_card(item, note=note)


def _run(text: str) -> None:
    try:
        session.run_turn(refiner, repo, text, k=k, keep_family=keep_family)
    except FeedbackRejected as exc:  # empty or too long: no turn, say what to type
        st.warning(str(exc))
        return
    except (NoVectors, MissingWeights, KeyError) as exc:
        st.error(f"**Could not refine.** {exc}")
        return
    _save_and_rerun()


def _history() -> None:
    for i, turn in enumerate(session.turns[:-1]):
        with st.expander(f"Turn {i + 1}: “{short_text(turn.text) or '(no text)'}”"):
            st.caption(turn.message or f"Understood: {turn.reading or 'a change'}")
            image_grid(repo.get_items(turn.skus[:8]), columns=8, key=f"refine_hist_{i}")


def _explain(turn) -> None:
    if turn.message:
        st.info(turn.message)
    else:
        st.caption(f"Understood: {md_escape(turn.reading or 'a change, ranked by the model')}")
    if turn.unread:
        st.caption(f"Not understood: {md_escape(', '.join(turn.unread))} (these words only "
                   "nudge the model; they are not applied as rules)")
    for note in turn.notes:
        st.warning(note)
    if turn.family and keep_family:
        st.caption(f"showing {FAMILY_WORDS.get(turn.family, turn.family + ' items')} (turn off "
                   "“Keep the garment type” to search everything)")


if not session.started:
    _choose_start()
    st.stop()

st.subheader("References")
_strip()
left, right = st.columns([1, 3])
with left:
    with st.form("refine_form", clear_on_submit=True, border=False):
        text = st.text_input("What should change?", key="refine_text",
                             placeholder=PLACEHOLDER, max_chars=MAX_TEXT,
                             help=f"Say what to change, {EXAMPLES}. At most {MAX_TEXT} "
                                  "characters: one or two changes work best.")
        go = st.form_submit_button("Refine", type="primary", key="refine_go")
    if go:  # a message (nothing typed, too long) shows under the box
        _run(text)
    back = st.button("↩ Step back", key="refine_back", disabled=not session.turns)
if back:
    session.step_back()
    _save_and_rerun()

with right:
    if not session.turns:
        st.info(f"Type what to change about the reference, {EXAMPLES}.")
        st.stop()
    _history()
    last = session.turns[-1]
    st.subheader(f"Turn {len(session.turns)}: “{md_escape(short_text(last.text)) or '(no text)'}”")
    _explain(last)
    if not last.skus:
        st.warning("No items found.")
        st.stop()
    st.caption(f"The next turn starts from **{md_escape(_name(last.next))}**; pick another "
               "with “↪ Use this”.")
    items = repo.get_items(last.skus)
    picked = image_grid(items, columns=4, key=f"refine_results_{len(session.turns)}",
                        captions=[shape_caption(it, sc) for it, sc in zip(items, last.scores,
                                                                          strict=False)],
                        on_pick="↪ Use this", pick_help="Use as the reference of the next turn")
    if picked and session.choose(picked):
        _save_and_rerun()
