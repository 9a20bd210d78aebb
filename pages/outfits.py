"""Outfits: build a look from catalog items, your own photos or the item chosen on Search; see
how well the pieces go together (score, verdict, a heatmap of every pair), complete the look
with catalog suggestions, and watch the model on held-out outfits of the data set."""

import hashlib
import random

import numpy as np
import streamlit as st

from core.demo.taxonomy import SEASONS, UNISEX
from core.images import ImageRejected
from core.index import NoVectors
from core.models.registry import MissingWeights
from core.outfits.figure import pair_figure
from core.outfits.model import WeightsError
from core.outfits.service import AUTO, Piece
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

STYLIST = "core.outfits.service:stylist"
MAX_PIECES = 6
N_EXAMPLES = 4
FOR_CHOICES = {"Whom the look is for": AUTO, "Women": "women", "Men": "men", "Anyone": None}
PHOTO_SEASONS = {"Season?": None, **{s.capitalize(): s for s in SEASONS}}
PHOTO_GENDERS = {"For whom?": None, "Women": "women", "Men": "men", "Unisex": UNISEX}
SLOT_NAMES = {"top": "Top", "bottom": "Bottom", "full": "One-piece", "outer": "Outerwear",
              "shoes": "Shoes", "bag": "Bag", "hat": "Hat"}

st.title("🧥 Outfits")
st.caption("Put a look together from the catalog, your own photos or the item chosen on Search: "
           "the stylist model scores how well the pieces go together, shows which pairs clash "
           "and suggests what completes the look.")
repo = repo_or_stop()
require_catalog(repo)
state = st.session_state
state.setdefault("outfits_look", [])  # {"kind": "item", "sku"} or {"kind": "photo", ...}
state.setdefault("outfits_messages", [])  # (where, kind, text) shown once, after a rerun
state.setdefault("outfits_upload_n", 0)  # bumped to empty the uploader once photos are added
handoff = state.pop("outfits_handoff", None)  # "Complete the look" on Search: start from it

try:
    stylist = resource(STYLIST)
except (WeightsError, ValueError) as exc:
    st.error(f"**The outfit model is not ready.** {exc}")
    st.stop()
if stylist.warning:
    st.warning(stylist.warning)
try:
    with st.spinner("Reading the catalog's garments…"):
        stylist.features(repo)
except NoVectors as exc:
    st.error(f"**The catalog has no garment vectors yet.** Run `python -m core embed` to embed "
             f"it, then reload this page. ({exc})")
    st.stop()
except ValueError as exc:
    st.error(f"**The outfit model does not fit this catalog.** {exc}")
    st.stop()

with st.sidebar:
    st.header("Outfits")
    k = st.slider("Suggestions per slot", 2, 8, 4, key="outfits_k",
                  help="How many catalog items to suggest for each missing or optional piece.")
    suggest_for = st.selectbox(
        "Suggest pieces for", list(FOR_CHOICES), key="outfits_for",
        help="The catalog knows whom each item is for, which a picture may not show: "
             "suggestions are for this gender (and unisex). *Whom the look is for* reads it "
             "from the catalog pieces in your look.")
    if st.button("Clear look", key="outfits_clear", width="stretch",
                 disabled=not state["outfits_look"]):
        state["outfits_look"] = []
        st.rerun()
    auc = (stylist.meta.get("metrics") or {}).get("auc")
    reads = " + the catalog's season and gender" if stylist.model.cfg.meta_dim else ""
    st.caption(f"Model: `{stylist.model.cfg.kind}` on `{stylist.model_id}` vectors{reads}"
               + (f" · test AUC {auc:.2f}" if isinstance(auc, float) else "")
               + (" · say a photo's season and whom it is for under its picture" if reads
                  else ""))


def _say(where: str, kind: str, text: str) -> None:
    """Queue a message for the next run (the action that caused it re-runs the page)."""
    state["outfits_messages"].append((where, kind, text))


def _messages(where: str) -> None:
    """Show (and drop) the queued messages of one part of the page; successes as toasts."""
    keep = []
    for msg in state["outfits_messages"]:
        if msg[0] != where:
            keep.append(msg)
        elif msg[1] == "success":
            st.toast(msg[2], icon="✅")
        else:
            getattr(st, msg[1])(msg[2])
    state["outfits_messages"] = keep


def _entry_id(entry: dict) -> str:
    return entry["sku"] if entry["kind"] == "item" else entry["digest"]


def _room(where: str, adding: int = 1) -> bool:
    """Whether the look has room for ``adding`` more pieces (else a message says so)."""
    if len(state["outfits_look"]) + adding <= MAX_PIECES:
        return True
    _say(where, "warning", f"A look holds at most {MAX_PIECES} pieces: remove one (✕ under its "
                           "picture) or clear the look first.")
    return False


def _add_item(sku: str, where: str) -> None:
    """Add a catalog item to the look (if it fits and is embedded), then re-run."""
    if any(e.get("sku") == sku for e in state["outfits_look"]):
        _say(where, "info", f"**{sku}** is already in your look.")
    elif _room(where):
        try:
            piece = stylist.item_piece(repo, sku)
        except KeyError as exc:
            _say(where, "error", f"**Could not add {sku}:** {exc.args[0] if exc.args else exc}")
        else:
            state["outfits_look"].append({"kind": "item", "sku": sku})
            _say(where, "success", f"Added {piece.label} ({sku}) to your look.")
    st.rerun()


def _add_photos(files) -> None:
    """Add uploaded photos as pieces; a rejected file is named with its reason, not added."""
    have = {_entry_id(e) for e in state["outfits_look"]}
    fresh = [f for f in files if hashlib.sha1(f.getvalue()).hexdigest() not in have]
    if len(fresh) < len(files):
        _say("add", "info", "Photos already in your look were skipped.")
    added = 0
    for f in fresh:
        if not _room("add"):
            break
        try:
            piece = stylist.photo_piece(f.getvalue(), name=f.name)
        except ImageRejected as exc:
            _say("add", "error", f"**Could not use {exc.file}**: {exc.reason}")
            continue
        except MissingWeights as exc:
            _say("add", "error", f"**Photos need the image model.** {exc}")
            break
        state["outfits_look"].append({
            "kind": "photo", "digest": hashlib.sha1(f.getvalue()).hexdigest(),
            "name": f.name, "bytes": f.getvalue(), "vector": piece.vector.tolist(),
            "side": piece.side.tolist(), "category": piece.category, "label": piece.label})
        added += 1
    if added:
        state["outfits_upload_n"] += 1  # a fresh, empty uploader
        _say("add", "success", f"Added {added} photo{'s' if added > 1 else ''} to your look.")
    st.rerun()


def _pieces(look: list[dict]) -> list[Piece]:
    """The look's entries as pieces for the model (items no longer usable are dropped)."""
    pieces, keep = [], []
    for entry in look:
        if entry["kind"] == "photo":
            if len(entry["vector"]) != stylist.model.cfg.img_dim:  # embedded for an old model
                st.warning(f"Removed the photo {entry['name']} from your look: the outfit model "
                           "changed since it was added. Upload it again.")
                continue
            piece = Piece(np.asarray(entry["vector"], dtype=np.float32),
                          np.asarray(entry["side"], dtype=np.float32),
                          entry["category"], None, entry["label"])
            pieces.append(piece.with_facts(entry.get("season"), entry.get("gender")))
        else:
            try:
                pieces.append(stylist.item_piece(repo, entry["sku"]))
            except KeyError as exc:
                st.warning(f"Removed {entry['sku']} from your look: {exc.args[0]}")
                continue
        keep.append(entry)
    if len(keep) < len(look):
        state["outfits_look"] = keep
    return pieces


def _picture(entry: dict, piece: Piece, item) -> None:
    if entry["kind"] == "photo":
        st.image(entry["bytes"], width="stretch")
    elif item is not None and image_path(item).exists():
        st.image(str(image_path(item)), width="stretch")
    else:
        st.warning(f"image missing: {entry['sku']}")
    where = "your photo" if entry["kind"] == "photo" else entry["sku"]
    st.caption(f"**{piece.label}**  \n{where}")


def _show_look(look: list[dict], pieces: list[Piece]) -> None:
    """The look as a row of pictures, each with a remove button."""
    items = {it.sku: it for it in repo.get_items([e["sku"] for e in look if e["kind"] == "item"])}
    cols = st.columns(MAX_PIECES)
    for i, (entry, piece) in enumerate(zip(look, pieces, strict=True)):
        with cols[i]:
            _picture(entry, piece, items.get(entry.get("sku")))
            if entry["kind"] == "photo" and stylist.model.cfg.meta_dim:
                _photo_facts(entry)
            if st.button("✕ Remove", key=f"outfits_remove_{i}_{_entry_id(entry)}",
                         width="stretch"):
                state["outfits_look"].pop(i)
                st.rerun()


def _photo_facts(entry: dict) -> None:
    """Season and whom a photo is for, which the model reads for catalog items; unknown until
    the owner says (a change re-scores the look)."""
    for what, label, choices in (("season", "Season", PHOTO_SEASONS),
                                 ("gender", "For whom", PHOTO_GENDERS)):
        names = list(choices)
        now = next(n for n, v in choices.items() if v == entry.get(what))
        picked = st.selectbox(label, names, index=names.index(now),
                              key=f"outfits_{what}_{entry['digest']}",
                              label_visibility="collapsed")
        if choices[picked] != entry.get(what):
            entry[what] = choices[picked]
            st.rerun()


def _score_panel(result) -> None:
    left, right = st.columns([2, 3])
    with left:
        value = "—" if result.score is None else f"{result.score:.0%}"
        st.metric("Outfit score", value, help="The model's probability that all the pieces go "
                  "together; one clashing pair is enough to pull it down.")
        show = (st.info if result.score is None else
                st.success if result.goes_together else st.warning)
        show(result.verdict(with_missing=False))  # what is missing comes next, on its own
        if result.missing:
            st.info("A complete look still needs: **" + "**, **".join(result.missing)
                    + "**. See *Complete the look* below.")
        weak = result.weakest
        if weak is not None and result.goes_together:
            i, j, p = weak
            st.caption(f"Weakest pair: {result.labels[i]} + {result.labels[j]} ({p:.0%}).")
    with right:
        if result.score is not None:
            st.plotly_chart(pair_figure(result.labels, result.pairs), width="stretch",
                            key="outfits_pairs")


def _catalog_picks() -> None:
    if st.button("🔀 Shuffle", key="outfits_shuffle") or "outfits_sample" not in state:
        state["outfits_sample"] = [it.sku for it in repo.sample_items(10)]
    picked = image_grid(repo.get_items(state["outfits_sample"]), columns=5,
                        key="outfits_pick", on_pick="Add to look")
    if picked:
        _add_item(picked, "add")


def _add_tab() -> None:
    _messages("add")
    chosen = state.get("search_selected_sku")
    if chosen and repo.get_item(chosen) is not None and \
            all(e.get("sku") != chosen for e in state["outfits_look"]):
        if st.button(f"Add the item chosen on Search ({chosen})", key="outfits_from_search"):
            _add_item(chosen, "add")
    if len(state["outfits_look"]) >= MAX_PIECES:
        st.info(f"Your look is full ({MAX_PIECES} pieces): remove one to add another.")
    tab_pick, tab_up = st.tabs(["🗂️ From the catalog", "📤 Your photos"])
    with tab_pick:
        _catalog_picks()
    with tab_up:
        files = st.file_uploader("Garment photos", type=IMAGE_TYPES, accept_multiple_files=True,
                                 key=f"outfits_upload_{state['outfits_upload_n']}")
        if files and st.button(f"Add {len(files)} photo{'s' if len(files) > 1 else ''} to "
                               "the look", key="outfits_add_photos", type="primary"):
            _add_photos(files)


def _complete_tab(pieces: list[Piece], missing: list[str]) -> None:
    _messages("complete")
    if not pieces:
        st.info("Add a piece first: suggestions are built around your look.")
        return
    if len(pieces) >= MAX_PIECES:
        st.info(f"Your look is full ({MAX_PIECES} pieces): remove one to try a suggestion.")
        return
    gender = FOR_CHOICES[suggest_for]
    if gender == AUTO:
        gender = stylist.look_gender(repo, pieces)
    whom = f" for {gender} (and unisex)" if gender else ""
    st.caption(f"Catalog items{whom} that go best with your look, missing pieces first. The "
               "number under each is the look's score with that piece added.")
    for slot, suggestions in stylist.complete(repo, pieces, k=k, gender=gender).items():
        need = " · missing" if slot in missing else ""
        st.markdown(f"**{SLOT_NAMES.get(slot, slot)}{need}**")
        if not suggestions:
            st.caption(f"No {slot} items in the catalog.")
            continue
        picked = image_grid([s.item for s in suggestions], scores=[s.score for s in suggestions],
                            columns=max(k, 4), key=f"outfits_fill_{slot}", on_pick="Add")
        if picked:
            _add_item(picked, "complete")


def _pick_examples() -> list[dict]:
    """Held-out outfits with every item embedded: half compatible, half broken if possible."""
    rows = stylist.features(repo).row
    docs = [d for d in repo.find_docs("outfits", {"split": "test"}, limit=500)
            if len(d.get("items") or []) >= 2 and all(s in rows for s in d["items"])]
    rng = random.Random(state.get("outfits_examples_seed", 0))
    good = [d for d in docs if d.get("compatible")]
    bad = [d for d in docs if not d.get("compatible")]
    n_good = min(len(good), max(N_EXAMPLES - len(bad), N_EXAMPLES // 2))
    chosen = rng.sample(good, n_good) + rng.sample(bad, min(len(bad), N_EXAMPLES - n_good))
    rng.shuffle(chosen)
    return [{"outfit_id": str(d.get("outfit_id") or d["_id"]), "items": list(d["items"]),
             "compatible": bool(d.get("compatible")), "rule": str(d.get("rule") or ""),
             "style": str(d.get("style") or "")} for d in chosen]


def _example(ex: dict) -> None:
    pieces = [stylist.item_piece(repo, sku) for sku in ex["items"]]
    result = stylist.score(pieces)
    with st.container(border=True):
        pics, verdict = st.columns([3, 2])
        with pics:
            image_grid(repo.get_items(ex["items"]), columns=max(len(ex["items"]), 4),
                       key=f"outfits_ex_{ex['outfit_id']}")
        with verdict:
            label = "compatible" if ex["compatible"] else "broken"
            style = f" · {ex['style']}" if ex["style"] else ""
            st.markdown(f"**Outfit {ex['outfit_id']}**{style}")
            st.metric("Model score", f"{result.score:.0%}")
            agrees = result.goes_together == ex["compatible"]
            (st.success if ex["compatible"] else st.error)(
                f"Data set: **{label}**, {ex['rule']}")
            st.caption("✓ the model agrees" if agrees else "✗ the model disagrees")
            if st.button("Load into my look", key=f"outfits_load_{ex['outfit_id']}"):
                state["outfits_look"] = [{"kind": "item", "sku": s}
                                         for s in ex["items"][:MAX_PIECES]]
                _say("look", "success", f"Loaded outfit {ex['outfit_id']} into your look.")
                st.rerun()


def _examples_tab() -> None:
    st.caption("Outfits the model never saw in training, with the data set's own label: "
               "see where the model agrees.")
    if st.button("🔀 Other examples", key="outfits_examples_more"):
        state["outfits_examples_seed"] = state.get("outfits_examples_seed", 0) + 1
        state.pop("outfits_examples", None)
    if "outfits_examples" not in state:
        state["outfits_examples"] = _pick_examples()
    if not state["outfits_examples"]:
        st.info("The catalog has no held-out (test split) outfits with embedded items. The demo "
                "catalog writes some: `python -m core demo build --outfits N`, ingest it, then "
                "run `python -m core embed`.")
        return
    for ex in state["outfits_examples"]:
        _example(ex)


if handoff and all(e.get("sku") != handoff for e in state["outfits_look"]):
    _add_item(handoff, "look")  # re-runs the page with the item in the look
look = state["outfits_look"]
pieces = _pieces(look)
look = state["outfits_look"]
st.subheader(f"Your look · {len(look)} of {MAX_PIECES} pieces" if look else "Your look")
_messages("look")
if look:
    _show_look(look, pieces)
    result = stylist.score(pieces)
    _score_panel(result)
else:
    st.info("Your look is empty: add pieces from the catalog or your own photos below, or "
            "load one of the examples.")
    result = None
st.divider()
tab_add, tab_fill, tab_ex = st.tabs(["➕ Add pieces", "✨ Complete the look", "📚 Examples"],
                                    key="outfits_tab")
with tab_add:
    _add_tab()
with tab_fill:
    _complete_tab(pieces, result.missing if result else [])
with tab_ex:
    _examples_tab()
