"""Refine: start from a photo, a catalog item or a search result, then type what to change
("in red", "with long sleeves", "less fitted") turn after turn, with history and step back."""

import numpy as np
import streamlit as st

from core.feedback.model import WeightsError
from core.feedback.service import Reference
from core.feedback.text import TextTowerError
from core.images import ImageRejected
from core.index import NoVectors
from core.models.registry import MissingWeights
from pages.common import (
    IMAGE_TYPES,
    enter_through_app,
    image_grid,
    repo_or_stop,
    require_catalog,
    resource,
)

enter_through_app()

REFINER = "core.feedback.service:refiner"
EXAMPLES = "e.g. “in red”, “with long sleeves”, “darker and striped”, “less fitted, in navy”"

st.title("💬 Refine")
st.caption("Pick a starting garment, then say what to change. Each turn starts from the item "
           "you choose below (or the top result).")
repo = repo_or_stop()
require_catalog(repo)
state = st.session_state
state.setdefault("refine_turns", [])
handoff = state.pop("refine_handoff", None)  # "Refine with text" on Search: start from it
if handoff and repo.get_item(handoff) is not None:
    state["refine_start"] = {"kind": "item", "sku": handoff}
    state["refine_turns"] = []

try:
    refiner = resource(REFINER)
except (WeightsError, TextTowerError, ValueError) as exc:
    st.error(f"**Refinement is not ready.** {exc}")
    st.stop()
if refiner.warning:
    st.warning(refiner.warning)

with st.sidebar:
    st.header("Refine")
    k = st.slider("Results", 4, 24, 8, step=4, key="refine_k")
    keep_family = st.toggle("Keep the garment type", value=True, key="refine_keep_family",
                            help="Stay among tops, dresses, shoes, … like the reference, "
                                 "unless your feedback names another kind of garment.")
    if st.button("Start over", key="refine_reset", width="stretch"):
        for key in ("refine_turns", "refine_start", "refine_photo"):
            state.pop(key, None)
        st.rerun()


def _start(ref: dict) -> None:
    state["refine_start"] = ref
    state["refine_turns"] = []
    st.rerun()


def _choose_start() -> None:
    """Start options: the item chosen on Search, an upload, or a catalog pick."""
    chosen = state.get("search_selected_sku")
    if chosen and repo.get_item(chosen) is not None:
        if st.button(f"Use the item chosen on Search ({chosen})", key="refine_from_search"):
            _start({"kind": "item", "sku": chosen})
    tab_pick, tab_up = st.tabs(["🗂️ From the catalog", "📤 Upload a photo"])
    with tab_pick:
        if st.button("Shuffle", key="refine_shuffle") or "refine_sample" not in state:
            state["refine_sample"] = [it.sku for it in repo.sample_items(10)]
        picked = image_grid(repo.get_items(state["refine_sample"]), columns=5,
                            key="refine_pick", on_pick="Start from this")
        if picked:
            _start({"kind": "item", "sku": picked})
    with tab_up:
        photo = st.file_uploader("Garment photo", type=IMAGE_TYPES, key="refine_upload")
        if photo is not None and st.button("Start from this photo", key="refine_use_photo"):
            try:
                ref = refiner.photo_reference(photo.getvalue(), name=photo.name)
            except ImageRejected as exc:
                st.error(f"**Could not use {exc.file}**: {exc.reason}")
                return
            except MissingWeights as exc:
                st.error(f"**Photos need the image model.** {exc}")
                return
            state["refine_photo"] = {"vector": ref.vector.tolist(), "family": ref.family,
                                     "attrs": ref.attrs, "bytes": photo.getvalue(),
                                     "name": photo.name}
            _start({"kind": "photo", "name": photo.name})


def _reference() -> dict:
    """The reference of the next turn: the pick (or top result) of the last turn, else start."""
    turns = state["refine_turns"]
    return {"kind": "item", "sku": turns[-1]["next"]} if turns else state["refine_start"]


def _show_reference(ref: dict, key: str) -> None:
    if ref["kind"] == "photo":
        st.image(state["refine_photo"]["bytes"], caption=ref["name"], width="stretch")
    else:
        image_grid(repo.get_items([ref["sku"]]), columns=1, key=key)


def _core_reference(ref: dict):
    if ref["kind"] == "photo":
        photo = state["refine_photo"]
        return Reference(np.asarray(photo["vector"], dtype=np.float32), photo["family"],
                         attrs=photo.get("attrs") or {})
    return refiner.item_reference(repo, ref["sku"])


def _run_turn(text: str) -> None:
    ref = _reference()
    exclude = (ref["sku"],) if ref["kind"] == "item" else ()
    outcome = refiner.refine(repo, _core_reference(ref), text, k=k, exclude=exclude,
                             keep_family=keep_family)
    skus = [r.item.sku for r in outcome.results]
    state["refine_turns"].append({
        "text": text.strip(), "ref": ref, "skus": skus,
        "scores": [r.score for r in outcome.results], "message": outcome.message,
        "reading": outcome.reading, "family": outcome.family, "notes": outcome.notes,
        "next": skus[0] if skus else ref.get("sku")})


def _history() -> None:
    turns = state["refine_turns"]
    for i, turn in enumerate(turns[:-1]):
        label = f"Turn {i + 1}: “{turn['text'] or '(no text)'}”"
        with st.expander(label, expanded=False):
            st.caption(turn["message"] or f"Understood: {turn['reading'] or 'a change'}")
            image_grid(repo.get_items(turn["skus"][:8]), columns=8, key=f"refine_hist_{i}")


if "refine_start" not in state:
    _choose_start()
    st.stop()

left, right = st.columns([1, 3])
with left:
    st.subheader("Reference")
    _show_reference(_reference(), "refine_ref")
    with st.form("refine_form", clear_on_submit=True, border=False):
        text = st.text_input("What should change?", key="refine_text", placeholder=EXAMPLES)
        go = st.form_submit_button("Refine", type="primary", key="refine_go")
    back = st.button("↩ Step back", key="refine_back", disabled=not state["refine_turns"])
if go:
    try:
        _run_turn(text)
    except (NoVectors, MissingWeights, KeyError) as exc:
        st.error(f"**Could not refine.** {exc}")
        st.stop()
    st.rerun()
if back:
    state["refine_turns"].pop()
    st.rerun()

with right:
    turns = state["refine_turns"]
    if not turns:
        st.info(f"Type what to change about the reference, {EXAMPLES}.")
        st.stop()
    _history()
    last = turns[-1]
    st.subheader(f"Turn {len(turns)}: “{last['text'] or '(no text)'}”")
    if last["message"]:
        st.info(last["message"])
    elif last["reading"]:
        st.caption(f"Understood: {last['reading']}")
    for note in last.get("notes", ()):
        st.warning(note)
    if last.get("family"):
        st.caption(f"showing {last['family']} items (turn off “Keep the garment type” to "
                   "search everything)")
    if not last["skus"]:
        st.warning("No items found.")
        st.stop()
    st.caption(f"The next turn starts from **{last['next']}**; pick another with "
               "“Use as reference”.")
    picked = image_grid(repo.get_items(last["skus"]), scores=last["scores"], columns=4,
                        key=f"refine_results_{len(turns)}", on_pick="Use as reference")
    if picked and picked != last["next"]:
        last["next"] = picked
        st.rerun()
