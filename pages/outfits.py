"""Outfits: build a look, score it, complete it, see held-out outfits (logic: core.outfits)."""

import streamlit as st

from core.index import NoVectors
from core.outfits import look as looks
from core.outfits.explain import SCORE_HELP, percent
from core.outfits.figure import pair_figure
from core.outfits.model import WeightsError
from core.outfits.params import SuggestParams
from core.outfits.removal import removal_offer
from core.ranges import widget
from pages import common as ui
from pages.cards import PHOTO_HELP, image_grid, image_path

ui.enter_through_app()

st.title("🧥 Outfits")
st.caption("Put a look together from the catalog or your photos: scored, clashes named, completed.")
repo = ui.repo_or_stop()
ui.require_catalog(repo)
state = st.session_state
look = looks.Look.from_state(state.get("outfits_look"))
try:
    stylist = ui.resource("core.outfits.service:stylist")
    with st.spinner("Reading the catalog's garments…"):
        feats = stylist.features(repo)
except (NoVectors, WeightsError, ValueError) as exc:
    ui.stop_with(looks.not_ready_text(exc), exc)
if stylist.warning:
    st.warning(stylist.warning)


def rerun() -> None:
    state["outfits_look"] = look.to_state()
    st.rerun()


def notes(where: str) -> None:
    for _, kind, text in look.take_notes(where):  # a success is a toast, the rest stay
        {"success": lambda t: st.toast(t, icon="✅")}.get(kind, getattr(st, kind))(text)


with st.sidebar:
    st.header("Outfits")
    k = st.slider("Suggestions per slot", **widget(SuggestParams, "k"), key="outfits_k",
                  help=looks.K_HELP)
    suggest_for = st.selectbox("Suggest pieces for", list(looks.WHOM), key="outfits_for",
                               help=looks.WHOM_HELP)
    if st.button("Clear look", key="outfits_clear", width="stretch", disabled=not look.entries):
        look.clear()
        rerun()
    st.caption(**looks.model_caption(stylist))

if handoff := state.pop("outfits_handoff", None):  # "Complete the look" on another page
    look.propose(stylist, repo, [handoff], handoff)
    rerun()


def photo_widgets(entry: dict) -> None:
    """What the photo shows (guesses first), its season and whom it is for (re-scores)."""
    for what, label, choices, now in looks.photo_questions(entry, stylist.model.cfg.meta_dim):
        picked = st.selectbox(label, list(choices), index=list(choices).index(now),
                              key=f"outfits_{what}_{entry['digest']}")
        if look.set_photo(entry["digest"], what, choices[picked]):
            rerun()


def show_look(pieces) -> None:
    """The look as a row of pictures, each with a remove button."""
    items = {it.sku: it for it in repo.get_items(look.skus)}
    cols = st.columns(looks.MAX_PIECES)
    for i, (col, entry, piece) in enumerate(zip(cols, look.entries, pieces, strict=False)):
        with col:
            path = image_path(items[entry["sku"]]) if entry["kind"] == "item" else None
            if path is None or path.exists():
                st.image(entry["bytes"] if path is None else str(path), width="stretch")
            st.caption(f"**{i + 1}. {piece.label}**  \n{entry.get('sku') or 'your photo'}")
            if entry["kind"] == "photo":
                photo_widgets(entry)
            if st.button("✕ Remove", key=f"outfits_remove_{i}_{look.ids[i]}", width="stretch"):
                look.remove(i)
                rerun()


def offer_panel(pieces) -> None:
    """Replace, add to or keep the look: something arrived while it had pieces."""
    with st.container(border=True):
        st.markdown(looks.offer_question(look, look.preview(stylist, repo, pieces)))
        for col, (choice, label) in zip(st.columns(3), looks.OFFER_CHOICES, strict=True):
            if col.button(label, key=f"outfits_offer_{choice}", width="stretch"):
                look.answer(stylist, repo, choice)
                rerun()


def score_panel(pieces, result) -> None:
    left, right = st.columns([2, 3])
    verdict = result.explain()
    with left:
        st.metric("Outfit score", percent(result.score) if result.score is not None else "—",
                  help=SCORE_HELP)
        getattr(st, verdict.kind)(verdict.text)
        if offer := removal_offer(stylist, pieces, result):
            st.info(offer.text)
            if st.button(offer.button, key="outfits_drop_best"):
                look.remove(offer.index)
                rerun()
        if result.missing:
            st.info(looks.missing_text(result.missing, look.unnamed_photos))
    if result.score is not None:
        right.plotly_chart(pair_figure(result.labels, result.pairs), width="stretch",
                           key="outfits_pairs")


def add_tab() -> None:
    notes("add")
    chosen = state.get("search_selected_sku")
    if chosen and chosen in feats.row and not look.has(chosen) and st.button(
            f"Add the item chosen on Search ({chosen})", key="outfits_from_search"):
        look.add_item(stylist, repo, chosen)
        rerun()
    if look.full:
        st.info(looks.full_text("add another"))
    tab_pick, tab_up = st.tabs(["🗂️ From the catalog", "📤 Your photos"])
    if tab_pick.button("🔀 Shuffle", key="outfits_shuffle") or "outfits_sample" not in state:
        state["outfits_sample"] = [it.sku for it in repo.sample_items(10)]
    with tab_pick:
        picked = image_grid(repo.get_items(state["outfits_sample"]), columns=5,
                            key="outfits_pick", on_pick="Add to look")
    with tab_up:
        files = st.file_uploader("Garment photos", help=PHOTO_HELP, accept_multiple_files=True,
                                 key=f"outfits_upload_{state.get('outfits_upload_n', 0)}")
        if files and st.button(looks.add_photos_label(len(files)), key="outfits_add_photos",
                               type="primary"):
            if look.add_photos(stylist, [(f.name, f.getvalue()) for f in files]):
                state["outfits_upload_n"] = state.get("outfits_upload_n", 0) + 1  # emptied
            rerun()
    if picked:
        look.add_item(stylist, repo, picked)
        rerun()


def complete_tab(pieces, missing: list[str]) -> None:
    notes("complete")
    if not pieces or look.full:
        return st.info(looks.full_text("try a suggestion") if pieces else
                       looks.NOTHING_TO_COMPLETE)
    caption, slots = looks.completion(stylist, repo, pieces, k=k, missing=missing,
                                      whom=looks.WHOM[suggest_for])
    st.caption(caption)
    for title, slot, found in slots:
        st.markdown(title)
        if picked := image_grid([i for i, _ in found], columns=min(max(k, 4), 8), on_pick="Add",
                                key=f"outfits_fill_{slot}", captions=[c for _, c in found]):
            look.add_item(stylist, repo, picked, "complete")
            rerun()


def examples_tab() -> None:
    st.caption(looks.EXAMPLES_HELP)
    examples = looks.draw_examples(state, repo, feats.row,
                                   st.button("🔀 Other examples", key="outfits_examples_more"))
    if not examples:
        st.info(looks.NO_EXAMPLES)
    for ex in examples:
        card = looks.example_card(stylist, repo, ex)
        pics, told = st.container(border=True).columns([3, 2])
        with pics:
            image_grid(repo.get_items(ex["items"]), columns=max(len(ex["items"]), 4),
                       key=f"outfits_ex_{ex['outfit_id']}")
        told.markdown(card["title"])
        told.metric("Model score", card["score"], help=SCORE_HELP)
        (told.success if ex["compatible"] else told.error)(card["label"])
        told.caption(card["model"])
        if told.button("Load into my look", key=f"outfits_load_{ex['outfit_id']}"):
            look.propose(stylist, repo, ex["items"], f"outfit {ex['outfit_id']}")
            rerun()


pieces = look.pieces(stylist, repo)
st.subheader(look.title)
notes("look")
result = stylist.score(pieces) if pieces else None
if look.offer:
    offer_panel(pieces)
if result is not None:
    show_look(pieces)
    score_panel(pieces, result)
else:
    st.info(looks.EMPTY)
st.divider()
tab_add, tab_fill, tab_ex = st.tabs(["➕ Add pieces", "✨ Complete the look", "📚 Examples"],
                                    key="outfits_tab")
with tab_add:
    add_tab()
with tab_fill:
    complete_tab(pieces, result.missing if result else [])
with tab_ex:
    examples_tab()
state["outfits_look"] = look.to_state()
