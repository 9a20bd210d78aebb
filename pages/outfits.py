"""Outfits: build a look from catalog items, your own photos or an item handed over from another
page; see how well the pieces go together (score, a verdict naming what clashes and why, a
heatmap of every pair), complete the look with catalog suggestions, and watch the model on
held-out outfits of the data set. The look's state and rules live in core.outfits.look."""

import streamlit as st

from core.demo.taxonomy import SEASONS, UNISEX
from core.index import NoVectors
from core.outfits.explain import SCORE_HELP, percent
from core.outfits.figure import pair_figure
from core.outfits.look import MAX_PIECES, Look, category_choices, held_out_examples
from core.outfits.model import WeightsError
from core.outfits.service import AUTO
from core.tagging.labels import item_caption
from pages.common import (
    IMAGE_TYPES,
    enter_through_app,
    image_grid,
    image_path,
    repo_or_stop,
    require_catalog,
    resource,
)

enter_through_app()

FOR_CHOICES = {"Whom the look is for": AUTO, "Women": "women", "Men": "men", "Anyone": None}
PHOTO_FACTS = (("season", "Season", {"Season?": None, **{s.capitalize(): s for s in SEASONS}}),
               ("gender", "For whom", {"For whom?": None, "Women": "women", "Men": "men",
                                       "Unisex": UNISEX}))
SLOT_NAMES = {"top": "Top", "bottom": "Bottom", "full": "One-piece", "outer": "Outerwear",
              "shoes": "Shoes", "bag": "Bag", "hat": "Hat"}
OFFER_CHOICES = (("replace", "Start a new look with it"), ("add", "Add it to my look"),
                 ("cancel", "Keep my look as it is"))

st.title("🧥 Outfits")
st.caption("Put a look together from the catalog, your own photos or the item chosen on Search: "
           "the stylist model scores how well the pieces go together, says which pairs clash "
           "and why, and suggests what completes the look.")
repo = repo_or_stop()
require_catalog(repo)
state = st.session_state
state.setdefault("outfits_upload_n", 0)  # bumped to empty the uploader once photos are added
look = Look.from_state(state.get("outfits_look"))
try:
    stylist = resource("core.outfits.service:stylist")
    with st.spinner("Reading the catalog's garments…"):
        feats = stylist.features(repo)
except (WeightsError, ValueError) as exc:
    kind = "has no garment vectors yet" if isinstance(exc, NoVectors) else "is not ready"
    st.error(f"**The outfit model {kind}.** {exc}" + (
        " Run `python -m core embed` to embed the catalog, then reload this page."
        if isinstance(exc, NoVectors) else ""))
    st.stop()
if stylist.warning:
    st.warning(stylist.warning)
reads_facts = bool(stylist.model.cfg.meta_dim)


def rerun() -> None:
    state["outfits_look"] = look.to_state()
    st.rerun()


def notes(where: str) -> None:
    for _, kind, text in look.take_notes(where):
        st.toast(text, icon="✅") if kind == "success" else getattr(st, kind)(text)


with st.sidebar:
    st.header("Outfits")
    k = st.slider("Suggestions per slot", 2, 8, 4, key="outfits_k",
                  help="How many catalog items to suggest for each missing or optional piece.")
    suggest_for = st.selectbox("Suggest pieces for", list(FOR_CHOICES), key="outfits_for",
                               help="Suggestions are for this gender (and unisex). *Whom the "
                                    "look is for* reads it from the pieces in your look.")
    if st.button("Clear look", key="outfits_clear", width="stretch", disabled=not look.entries):
        look.clear()
        rerun()
    auc = (stylist.meta.get("metrics") or {}).get("auc")
    st.caption(f"Model: `{stylist.model.cfg.kind}` on `{stylist.model_id}` vectors"
               + (" + the catalog's season and gender" if reads_facts else "")
               + (f" · test AUC {auc:.2f}" if isinstance(auc, float) else ""))

handoff = state.pop("outfits_handoff", None)  # "Complete the look" on Search or Customers
if handoff:
    look.propose(stylist, repo, [handoff], handoff)
    rerun()


def photo_widgets(entry: dict) -> None:
    """What the photo shows (its top guesses first), and its season and whom it is for when
    the model reads those: the owner's word replaces the guess (a change re-scores)."""
    guesses = dict(entry.get("guesses") or [])
    facts = [("category", "What is it?", {("What is it?" if c is None else c + (
        f" · {percent(guesses[c])}" if c in guesses else "")): c
        for c in category_choices(list(guesses.items()))})]
    for what, label, choices in facts + list(PHOTO_FACTS if reads_facts else ()):
        names = list(choices)
        now = next(n for n, v in choices.items() if v == entry.get(what))
        picked = st.selectbox(label, names, index=names.index(now),
                              key=f"outfits_{what}_{entry['digest']}", help=(
                                  "The model's guesses first: pick what it really is."
                                  if what == "category" else None))
        if look.set_photo(entry["digest"], what, choices[picked]):
            rerun()


def show_look(pieces) -> None:
    """The look as a row of pictures, each with a remove button."""
    items = {it.sku: it for it in repo.get_items([e["sku"] for e in look.entries
                                                  if e["kind"] == "item"])}
    for i, (col, entry, piece) in enumerate(zip(st.columns(MAX_PIECES), look.entries, pieces,
                                                strict=False)):
        with col:
            item = items.get(entry.get("sku"))
            if entry["kind"] == "photo":
                st.image(entry["bytes"], width="stretch")
            elif item is not None and image_path(item).exists():
                st.image(str(image_path(item)), width="stretch")
            st.caption(f"**{piece.label}**  \n"
                       + ("your photo" if entry["kind"] == "photo" else entry["sku"]))
            if entry["kind"] == "photo":
                photo_widgets(entry)
            if st.button("✕ Remove", key=f"outfits_remove_{i}_{look.ids[i]}", width="stretch"):
                look.remove(i)
                rerun()


def offer_panel(pieces) -> None:
    """Replace, add to or keep the look: something arrived while it had pieces."""
    preview = look.preview(stylist, repo, pieces)
    with st.container(border=True):
        st.markdown(f"**{look.offer['source']} is ready, and your look already has "
                    f"{len(look)} piece{'s' if len(look) > 1 else ''}.** What should happen?")
        if preview is not None:
            st.caption(f"Added to your look: {preview.text}")
        for col, (choice, label) in zip(st.columns(3), OFFER_CHOICES, strict=True):
            if col.button(label, key=f"outfits_offer_{choice}", width="stretch"):
                look.answer(stylist, repo, choice)
                rerun()


def score_panel(result) -> None:
    left, right = st.columns([2, 3])
    verdict = result.explain()
    with left:
        value = "—" if result.score is None else percent(result.score)
        st.metric("Outfit score", value, help=SCORE_HELP)
        getattr(st, verdict.kind)(verdict.text)
        if result.missing:
            st.info("A complete look still needs: **" + "**, **".join(result.missing)
                    + "**. See *Complete the look* below.")
        if verdict.kind == "success":
            i, j, p = result.weakest
            st.caption(f"Weakest pair: {result.labels[i]} + {result.labels[j]} ({percent(p)}).")
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
        st.info(f"Your look is full ({MAX_PIECES} pieces): remove one to add another.")
    tab_pick, tab_up = st.tabs(["🗂️ From the catalog", "📤 Your photos"])
    if tab_pick.button("🔀 Shuffle", key="outfits_shuffle") or "outfits_sample" not in state:
        state["outfits_sample"] = [it.sku for it in repo.sample_items(10)]
    with tab_pick:
        picked = image_grid(repo.get_items(state["outfits_sample"]), columns=5,
                            key="outfits_pick", on_pick="Add to look")
    with tab_up:
        files = st.file_uploader("Garment photos", type=IMAGE_TYPES, accept_multiple_files=True,
                                 key=f"outfits_upload_{state['outfits_upload_n']}")
        if files and st.button(f"Add {len(files)} photo{'s' if len(files) > 1 else ''} to "
                               "the look", key="outfits_add_photos", type="primary"):
            if look.add_photos(stylist, [(f.name, f.getvalue()) for f in files]):
                state["outfits_upload_n"] += 1  # a fresh, empty uploader
            rerun()
    if picked:
        look.add_item(stylist, repo, picked)
        rerun()


def complete_tab(pieces, missing: list[str]) -> None:
    notes("complete")
    if not pieces or look.full:
        st.info("Add a piece first: suggestions are built around your look." if not pieces else
                f"Your look is full ({MAX_PIECES} pieces): remove one to try a suggestion.")
        return
    gender = FOR_CHOICES[suggest_for]
    gender = stylist.look_gender(repo, pieces) if gender == AUTO else gender
    st.caption(f"Catalog items{f' for {gender} (and unisex)' if gender else ''} that go best "
               "with your look, missing pieces first, each with the look's score with it added.")
    for slot, found in stylist.complete(repo, pieces, k=k, gender=gender).items():
        st.markdown(f"**{SLOT_NAMES.get(slot, slot)}{' · missing' if slot in missing else ''}**")
        if not found:
            st.caption(f"No {slot} items in the catalog.")
        elif picked := image_grid([s.item for s in found], columns=max(k, 4),
                                  key=f"outfits_fill_{slot}", on_pick="Add", captions=[
                                      f"{item_caption(s.item)} · look {percent(s.score)}"
                                      for s in found]):
            look.add_item(stylist, repo, picked, "complete")
            rerun()


def examples_tab() -> None:
    st.caption("Outfits the model never saw in training, with the data set's own label: "
               "see where the model agrees.")
    if st.button("🔀 Other examples", key="outfits_examples_more"):
        state["outfits_examples_seed"] = state.get("outfits_examples_seed", 0) + 1
        state.pop("outfits_examples", None)
    if "outfits_examples" not in state:
        state["outfits_examples"] = held_out_examples(repo, feats.row,
                                                      state.get("outfits_examples_seed", 0))
    if not state["outfits_examples"]:
        st.info("The catalog has no held-out (test split) outfits with embedded items. The demo "
                "catalog writes some: `python -m core demo build --outfits N`, ingest it, then "
                "run `python -m core embed`.")
    for ex in state["outfits_examples"]:
        result = stylist.score([stylist.item_piece(repo, sku) for sku in ex["items"]])
        pics, told = st.container(border=True).columns([3, 2])
        with pics:
            image_grid(repo.get_items(ex["items"]), columns=max(len(ex["items"]), 4),
                       key=f"outfits_ex_{ex['outfit_id']}")
        told.markdown(f"**Outfit {ex['outfit_id']}**" + (f" · {ex['style']}" if ex["style"]
                                                         else ""))
        told.metric("Model score", percent(result.score), help=SCORE_HELP)
        (told.success if ex["compatible"] else told.error)(
            f"Data set: **{'compatible' if ex['compatible'] else 'broken'}**, {ex['rule']}")
        told.caption(("✓ the model agrees: " if result.goes_together == ex["compatible"] else
                      "✗ the model disagrees: ") + result.explain().text)
        if told.button("Load into my look", key=f"outfits_load_{ex['outfit_id']}"):
            look.propose(stylist, repo, ex["items"], f"outfit {ex['outfit_id']}")
            rerun()


pieces = look.pieces(stylist, repo)
st.subheader(f"Your look · {len(look)} of {MAX_PIECES} pieces" if look.entries else "Your look")
notes("look")
result = stylist.score(pieces) if pieces else None
if look.offer:
    offer_panel(pieces)
if result is not None:
    show_look(pieces)
    score_panel(result)
else:
    st.info("Your look is empty: add pieces from the catalog or your own photos below, or "
            "load one of the examples.")
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
