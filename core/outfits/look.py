"""The look someone is putting together: catalog items and their own photos, kept as a plain
dict (a page's session state) and turned into pieces for the stylist.

Nothing here replaces what the person built without asking: an outfit loaded from the
examples, or an item handed over from another page, is added directly only to an empty look;
otherwise it waits as an *offer* (replace the look, add to it, or start a new look) with a
preview of how the look would score. Messages for the person are queued as notes (where,
kind, text) for the page to show once.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

import numpy as np

from core.images import ImageRejected
from core.models.registry import MissingWeights
from core.outfits.explain import Verdict, percent
from core.outfits.service import AUTO, Piece
from core.taxonomy import CATEGORIES, SEASONS, UNISEX

MAX_PIECES = 6
N_EXAMPLES = 4
Note = tuple[str, str, str]  # (where on the page, kind: success/info/warning/error, text)


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def category_choices(guesses: list[tuple[str, float]]) -> list[str | None]:
    """What a photo can be said to show: unknown, its top guesses, then every category."""
    first = [c for c, _ in guesses if c in CATEGORIES]
    return [None, *first, *(c for c in CATEGORIES if c not in first)]


@dataclass
class Look:
    entries: list[dict] = field(default_factory=list)  # {"kind": "item", "sku"} or photos
    offer: dict | None = None  # {"skus": [...], "source": str} waiting for replace/add
    notes: list[Note] = field(default_factory=list)

    @classmethod
    def from_state(cls, data: dict | list | None) -> Look:
        if isinstance(data, list):  # a bare list of entries
            return cls(list(data))
        data = data or {}
        return cls(list(data.get("entries") or []), data.get("offer"),
                   list(data.get("notes") or []))

    def to_state(self) -> dict:
        return {"entries": self.entries, "offer": self.offer, "notes": self.notes}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def full(self) -> bool:
        return len(self.entries) >= MAX_PIECES

    @property
    def title(self) -> str:
        return f"Your look · {len(self)} of {MAX_PIECES} pieces" if self.entries else "Your look"

    @property
    def skus(self) -> list[str]:
        return [e["sku"] for e in self.entries if e["kind"] == "item"]

    @property
    def ids(self) -> list[str]:
        return [e["sku"] if e["kind"] == "item" else e["digest"] for e in self.entries]

    def has(self, sku: str) -> bool:
        return sku in self.ids

    def say(self, where: str, kind: str, text: str) -> None:
        self.notes.append((where, kind, text))

    def take_notes(self, where: str) -> list[Note]:
        """The queued notes of one part of the page, removed from the queue."""
        mine = [n for n in self.notes if n[0] == where]
        self.notes = [n for n in self.notes if n[0] != where]
        return mine

    def _room(self, where: str, adding: int = 1) -> bool:
        if len(self.entries) + adding <= MAX_PIECES:
            return True
        self.say(where, "warning", f"A look holds at most {MAX_PIECES} pieces: remove one (✕ "
                                   "under its picture) or clear the look first.")
        return False

    def add_item(self, stylist, repo, sku: str, where: str = "add", *,
                 announce: bool = True) -> bool:
        """Add a catalog item if it is new, fits and is embedded (else a note says why)."""
        if self.has(sku):
            self.say(where, "info", f"**{sku}** is already in your look.")
            return False
        if not self._room(where):
            return False
        try:
            piece = stylist.item_piece(repo, sku)
        except KeyError as exc:
            self.say(where, "error", f"**Could not add {sku}:** {exc.args[0] if exc.args else exc}")
            return False
        self.entries.append({"kind": "item", "sku": sku})
        if announce:
            self.say(where, "success", f"Added {piece.label} ({sku}) to your look.")
        return True

    def add_photos(self, stylist, files: list[tuple[str, bytes]]) -> int:
        """Add photos (name, bytes) as pieces; duplicates are skipped and rejected files named
        with their reason. Returns how many were added."""
        fresh = [(n, b) for n, b in files if digest(b) not in self.ids]
        if len(fresh) < len(files):
            self.say("add", "info", "Photos already in your look were skipped.")
        added = 0
        for name, data in fresh:
            if not self._room("add"):
                break
            try:
                piece = stylist.photo_piece(data, name=name)
            except ImageRejected as exc:
                self.say("add", "error", f"**Could not use {exc.file}**: {exc.reason}")
                continue
            except MissingWeights as exc:
                self.say("add", "error", f"**Photos need the image model.** {exc}")
                break
            self.entries.append({
                "kind": "photo", "digest": digest(data), "name": name, "bytes": data,
                "vector": piece.vector.tolist(), "side": piece.side.tolist(),
                "category": piece.category, "guesses": [list(g) for g in piece.guesses]})
            added += 1
        if added:
            self.say("add", "success", f"Added {added} photo{'s' if added > 1 else ''} to your "
                                       "look.")
        return added

    def set_photo(self, photo_digest: str, what: str, value) -> bool:
        """Set a photo's category, season or gender; whether anything changed."""
        for entry in self.entries:
            if entry.get("digest") == photo_digest and entry.get(what) != value:
                entry[what] = value
                return True
        return False

    @property
    def unnamed_photos(self) -> int:
        """Photos whose category is not known (the model was unsure and no one said)."""
        return sum(e["kind"] == "photo" and not e.get("category") for e in self.entries)

    def remove(self, i: int) -> None:
        del self.entries[i]

    def clear(self) -> None:
        self.entries, self.offer = [], None

    def pieces(self, stylist, repo) -> list[Piece]:
        """The entries as pieces for the model; entries no longer usable are dropped with a
        note (a photo embedded for an older model, an item gone from the catalog)."""
        pieces, keep = [], []
        for entry in self.entries:
            try:
                piece = self._piece(stylist, repo, entry)
            except (KeyError, ValueError) as exc:
                self.say("look", "warning", str(exc.args[0]))
                continue
            pieces.append(piece)
            keep.append(entry)
        self.entries = keep
        return pieces

    @staticmethod
    def _piece(stylist, repo, entry: dict) -> Piece:
        if entry["kind"] == "item":
            try:
                return stylist.item_piece(repo, entry["sku"])
            except KeyError as exc:
                raise KeyError(f"Removed {entry['sku']} from your look: {exc.args[0]}") from None
        if len(entry["vector"]) != stylist.model.cfg.img_dim:
            raise ValueError(f"Removed the photo {entry['name']} from your look: the outfit "
                             "model changed since it was added. Upload it again.")
        piece = Piece(np.asarray(entry["vector"], dtype=np.float32),
                      np.asarray(entry["side"], dtype=np.float32), None, None, entry["name"],
                      guesses=[tuple(g) for g in entry.get("guesses") or []])
        return piece.as_category(entry.get("category")).with_facts(entry.get("season"),
                                                                   entry.get("gender"))

    # -- outfits and items from elsewhere: never replace what was built without asking --------
    def propose(self, stylist, repo, skus: list[str], source: str) -> None:
        """Load ``skus`` into an empty look; otherwise keep them as an offer to answer."""
        new = [s for s in skus if not self.has(s)]
        if not new:
            self.say("look", "info", f"{source} is already in your look.")
        elif not self.entries:
            self._load(stylist, repo, skus, source)
        else:
            self.offer = {"skus": list(skus), "source": source}

    def answer(self, stylist, repo, choice: str) -> None:
        """``replace`` (a new look of the offer), ``add`` (to the look) or ``cancel``."""
        offer, self.offer = self.offer, None
        if offer is None or choice == "cancel":
            return
        if choice == "replace":
            self.entries = []
            self._load(stylist, repo, offer["skus"], offer["source"])
        else:
            for sku in offer["skus"]:
                if not self.has(sku) and not self.add_item(stylist, repo, sku, "look"):
                    break

    def _load(self, stylist, repo, skus: list[str], source: str) -> None:
        added = [s for s in skus[:MAX_PIECES]
                 if self.add_item(stylist, repo, s, "look", announce=False)]
        if added:
            self.say("look", "success", f"Started a new look with {source}.")

    def preview(self, stylist, repo, pieces: list[Piece]) -> Verdict | None:
        """How the look of ``pieces`` would score with the offer added (None without one)."""
        if self.offer is None:
            return None
        try:
            extra = [stylist.item_piece(repo, s) for s in self.offer["skus"] if not self.has(s)]
        except KeyError:
            return None
        return stylist.score(pieces + extra).explain()


def held_out_examples(repo, embedded: set[str] | dict, seed: int = 0,
                      n: int = N_EXAMPLES) -> list[dict]:
    """Test-split outfits of the data set with every item embedded: half compatible, half
    broken when there are both."""
    docs = [d for d in repo.find_docs("outfits", {"split": "test"}, limit=500)
            if len(d.get("items") or []) >= 2 and all(s in embedded for s in d["items"])]
    rng = random.Random(seed)
    good = [d for d in docs if d.get("compatible")]
    bad = [d for d in docs if not d.get("compatible")]
    n_good = min(len(good), max(n - len(bad), n // 2))
    chosen = rng.sample(good, n_good) + rng.sample(bad, min(len(bad), n - n_good))
    rng.shuffle(chosen)
    return [{"outfit_id": str(d.get("outfit_id") or d["_id"]), "items": list(d["items"]),
             "compatible": bool(d.get("compatible")), "rule": str(d.get("rule") or ""),
             "style": str(d.get("style") or "")} for d in chosen]


# -- what a page asks and shows ---------------------------------------------------------------
SLOT_NAMES = {"top": "Top", "bottom": "Bottom", "full": "One-piece", "outer": "Outerwear",
              "shoes": "Shoes", "bag": "Bag", "hat": "Hat"}
FACT_CHOICES = {
    "season": ("Season", {"Season?": None, **{s.capitalize(): s for s in SEASONS}}),
    "gender": ("For whom", {"For whom?": None, "Women": "women", "Men": "men",
                            "Unisex": UNISEX})}


def photo_questions(entry: dict, reads_facts: bool | int) -> list[tuple[str, str, dict, str]]:
    """(field, label, {shown: value}, shown now) for what a photo's owner can tell: what it
    shows (the model's top guesses first, with their probability), and its season and whom
    it is for when the outfit model reads those."""
    guesses = dict(entry.get("guesses") or [])
    shows = {("What is it?" if c is None else
              f"{c} · {percent(guesses[c])}" if c in guesses else c): c
             for c in category_choices(list(guesses.items()))}
    asked = [("category", ("What is it?", shows))]
    asked += [(what, FACT_CHOICES[what]) for what in ("season", "gender") if reads_facts]
    return [(what, label, choices, next(n for n, v in choices.items() if v == entry.get(what)))
            for what, (label, choices) in asked]


def offer_question(look: Look, preview: Verdict | None) -> str:
    """What arrived while the look had pieces, and how the look would score with it added."""
    n = len(look)
    text = (f"**{look.offer['source']} is ready, and your look already has {n} "
            f"piece{'s' if n > 1 else ''}.** What should happen?")
    return text + (f"  \nAdded to your look: {preview.text}" if preview is not None else "")


def example_card(stylist, repo, ex: dict) -> dict:
    """A held-out outfit as the page shows it: title, the model's score, the data set's label
    and whether (and why) the model agrees."""
    result = stylist.score([stylist.item_piece(repo, sku) for sku in ex["items"]])
    agrees = result.goes_together == ex["compatible"]
    return {"title": f"**Outfit {ex['outfit_id']}**" + (f" · {ex['style']}" if ex["style"]
                                                        else ""),
            "score": percent(result.score),
            "label": "The data set says: **"
                     + ("goes together" if ex["compatible"] else "does not go together")
                     + f"**, {ex['rule']}",
            "model": ("✓ the model agrees: " if agrees else "✗ the model disagrees: ")
            + result.explain().text}


WHOM = {"Whom the look is for": AUTO, "Women": "women", "Men": "men", "Anyone": None}
WHOM_HELP = ("Suggestions for this gender (and unisex); *whom the look is for* reads it from "
             "your look's pieces.")
K_HELP = "How many catalog items to suggest for each missing or optional piece."
NOTHING_TO_COMPLETE = "Add a piece first: suggestions are built around your look."


def completion(stylist, repo, pieces: list[Piece], *, k: int, whom: str | None,
               missing: list[str]) -> tuple[str, list[tuple[str, str, list]]]:
    """What *Complete the look* shows: a caption naming whom the suggestions are for, then
    per slot (missing ones first) its title, the slot and its suggestions with their
    captions (the item's facts and the look's score with it added, as a percentage)."""
    from core.tagging.labels import item_caption

    gender = stylist.look_gender(repo, pieces) if whom == AUTO else whom
    caption = (f"Catalog items{f' for {gender} (and unisex)' if gender else ''} that go best "
               "with your look, missing pieces first, each with the look's score with it added.")
    slots = [(f"**{SLOT_NAMES.get(slot, slot)}{' · missing' if slot in missing else ''}**"
              + ("" if found else f" · no {slot} items in the catalog"), slot,
              [(s.item, f"{item_caption(s.item)} · look {percent(s.score)}") for s in found])
             for slot, found in stylist.complete(repo, pieces, k=k, gender=gender).items()]
    return caption, slots


EMPTY = ("Your look is empty: add pieces from the catalog or your own photos below, or load "
         "one of the examples.")
OFFER_CHOICES = (("replace", "Start a new look with it"), ("add", "Add it to my look"),
                 ("cancel", "Keep my look as it is"))
EXAMPLES_HELP = ("Outfits the model never saw in training, with the data set's own label: see "
                 "where the model agrees.")
NO_EXAMPLES = ("The catalog has no held-out (test split) outfits with embedded items. The demo "
               "catalog writes some: `python -m core demo build --outfits N`, ingest it, then "
               "run `python -m core embed`.")


def not_ready_text(exc: Exception) -> str:
    """Why the page cannot score looks yet (no vectors, or no usable outfit model)."""
    from core.index import NoVectors

    return ("The catalog has no garment vectors yet: run `python -m core embed`, then reload "
            "this page." if isinstance(exc, NoVectors) else
            "The outfit model is not ready for this catalog.")


def add_photos_label(n: int) -> str:
    return f"Add {n} photo{'s' if n > 1 else ''} to the look"


def draw_examples(state, repo, embedded, again: bool) -> list[dict]:
    """The held-out examples shown (kept in ``state``, a session dict); ``again``: a new
    draw (the first visit draws too)."""
    if again or "outfits_examples" not in state:
        state["outfits_examples_seed"] = seed = state.get("outfits_examples_seed", -1) + 1
        state["outfits_examples"] = held_out_examples(repo, embedded, seed)
    return state["outfits_examples"]


def missing_text(missing: list[str], unnamed_photos: int = 0) -> str:
    """What a complete look still needs; ``unnamed_photos``: photos whose category the model
    was not sure of (one of them may be the missing piece)."""
    text = ("A complete look still needs: **" + "**, **".join(missing)
            + "**. See *Complete the look* below.")
    if unnamed_photos:
        text += (" Your photo may be that piece: say what it shows under it."
                 if unnamed_photos == 1 else
                 " Your photos may be those pieces: say what each shows under it.")
    return text


def model_caption(stylist) -> dict[str, str]:
    """What the page says about the outfit model ("body") and its technical details for a
    tooltip ("help")."""
    auc = (stylist.meta.get("metrics") or {}).get("auc")
    reads = " and the season and gender of each piece" if stylist.model.cfg.meta_dim else ""
    text = "Scores come from the outfit model: it reads what the pieces look like" + reads + "."
    if isinstance(auc, float):
        text += (f" On outfits it never saw, it ranks a look that goes together above one that "
                 f"does not {auc:.0%} of the time.")
    details = (f"Model `{stylist.model.cfg.kind}` on `{stylist.model_id}` vectors"
               + (" + season and gender" if reads else "")
               + (f"; held-out AUC {auc:.3f}" if isinstance(auc, float) else "") + ".")
    return {"body": text, "help": details}


def full_text(to: str) -> str:
    return f"Your look is full ({MAX_PIECES} pieces): remove one to {to}."
