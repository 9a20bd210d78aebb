"""A refinement session: the starting reference and every turn, kept as a plain dict between
page runs (Streamlit's session state) and replayable without the UI.

Each turn starts from the previous turn's chosen result (its top result unless the user picks
another), so the references form a strip: the start, then each turn's choice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.feedback.parse import parse_feedback
from core.feedback.service import Reference
from core.tagging.labels import md_escape
from core.tagging.photo import PhotoReading
from core.taxonomy import COLORS

MAX_TEXT = 300  # characters of feedback a turn takes
READ_AS_HELP = ("What the models read off the photo, surely enough to start from: \"darker\" "
                "starts from its colour, \"longer sleeves\" from its sleeves, and results of "
                "its category come first.")
COLOUR_HELP = "Misread? Choose the garment's colour: \"darker\" and \"lighter\" start from it."
NO_FEEDBACK = "Type what to change first, e.g. “in red” or “longer sleeves”."


class FeedbackRejected(ValueError):
    """Feedback the session will not run (empty or too long); the message says what to do."""


@dataclass
class Turn:
    text: str
    ref: dict[str, Any]  # {"kind": "item", "sku": ...} or {"kind": "photo", "name": ...}
    skus: list[str]
    scores: list[float]
    message: str | None = None  # the text was empty or not understood
    reading: str = ""  # what was understood ("colour → red; garment → dress")
    unread: list[str] = field(default_factory=list)  # words no request was read from
    family: str | None = None  # results were kept to this garment family
    notes: list[str] = field(default_factory=list)  # requests nothing in the catalog meets
    next: str | None = None  # the sku the next turn starts from


@dataclass
class RefineSession:
    start: dict[str, Any] | None = None
    photo: dict[str, Any] | None = None  # a photo start: vector, reading, bytes, name
    turns: list[Turn] = field(default_factory=list)

    # -- plain dict for session state ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "photo": self.photo,
                "turns": [asdict(t) for t in self.turns]}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RefineSession:
        data = data or {}
        return cls(data.get("start"), data.get("photo"),
                   [Turn(**t) for t in data.get("turns", [])])

    # -- starting points -------------------------------------------------------------------
    def start_item(self, sku: str) -> None:
        self.start, self.photo, self.turns = {"kind": "item", "sku": sku}, None, []

    def start_photo(self, ref: Reference, data: bytes, name: str) -> None:
        self.photo = {"vector": np.asarray(ref.vector, dtype=np.float32).tolist(),
                      "family": ref.family, "attrs": dict(ref.attrs),
                      "category": ref.category, "bytes": data, "name": name,
                      "read_as": ref.reading.caption() if ref.reading else "",
                      "likely": sorted(ref.reading.likely) if ref.reading else [],
                      "read_colour": ref.attrs.get("color"),
                      "colours": list(ref.reading.colours) if ref.reading else []}
        self.start, self.turns = {"kind": "photo", "name": name}, []

    def photo_caption(self, note: str) -> dict[str, str]:
        """The photo start's caption ("body": the strip's note and what it was read as; the
        picture shows the rest) and its tooltip ("help": the file's name, what reading is)."""
        photo = self.photo or {}
        read_as, name = photo.get("read_as"), str(photo.get("name", ""))
        name = name if len(name) <= 24 else f"{name[:12]}…{name[-8:]}"  # uuid-like file names
        return {"body": f"{note} · " + (f"read as: {read_as}" if read_as else "your photo"),
                "help": f"Your photo {md_escape(name)}. {READ_AS_HELP}"}

    def colour_widget(self) -> dict[str, Any]:
        """The photo start's colour picker: not sure (None) or any palette colour, the
        likeliest first, the read one marked ("navy (read)"), the current one chosen."""
        photo = self.photo or {}
        read = photo.get("read_colour")
        options = [None, *(photo.get("colours") or COLORS)]
        labels = {c: "not sure" if c is None else f"{c} (read)" if c == read else c
                  for c in options}
        current = self.photo_colour if self.photo_colour in options else None
        return {"label": "Its colour", "options": options, "format_func": labels.get,
                "index": options.index(current), "help": COLOUR_HELP}

    @property
    def photo_colour(self) -> str | None:
        return ((self.photo or {}).get("attrs") or {}).get("color")

    def set_photo_colour(self, colour: str | None) -> bool:
        """The photo start's colour as the shopper says it ("darker" starts from it; None:
        not sure); True when it changed. What the photo reads as follows."""
        if self.photo is None or colour == self.photo_colour:
            return False
        if colour is not None and colour not in COLORS:
            raise ValueError(f"unknown colour {colour!r}")
        attrs = {k: v for k, v in (self.photo.get("attrs") or {}).items() if k != "color"}
        self.photo["attrs"] = attrs | ({"color": colour} if colour else {})
        self.photo["read_as"] = PhotoReading(self.photo.get("category"), self.photo.get("family"),
                                             self.photo["attrs"]).caption()
        return True

    @property
    def started(self) -> bool:
        return self.start is not None

    # -- turns -----------------------------------------------------------------------------
    def reference(self) -> dict[str, Any]:
        """The next turn's reference: the last turn's choice, else the start."""
        if self.turns and self.turns[-1].next:
            return {"kind": "item", "sku": self.turns[-1].next}
        return dict(self.start or {})

    def strip(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, reference) of the start and of every turn's choice, oldest first."""
        out = [("Start", dict(self.start or {}))]
        out += [(f"After turn {i}", {"kind": "item", "sku": t.next})
                for i, t in enumerate(self.turns, 1) if t.next]
        return out

    def core_reference(self, refiner, repo) -> Reference:
        ref = self.reference()
        if ref.get("kind") == "photo":
            photo = self.photo or {}
            reading = PhotoReading(photo.get("category"), photo.get("family"),
                                   photo.get("attrs") or {}, frozenset(photo.get("likely") or ()))
            return Reference(np.asarray(photo["vector"], dtype=np.float32), reading.family,
                             attrs=reading.attrs, category=reading.category, reading=reading)
        return refiner.item_reference(repo, ref["sku"])

    def run_turn(self, refiner, repo, text: str, *, k: int = 8,
                 keep_family: bool = True) -> Turn:
        """Refine the current reference with ``text`` and record the turn (FeedbackRejected,
        and no turn, when the text is empty or too long)."""
        text = check_text(text)
        ref = self.reference()
        exclude = (ref["sku"],) if ref.get("kind") == "item" else ()
        out = refiner.refine(repo, self.core_reference(refiner, repo), text, k=k,
                             exclude=exclude, keep_family=keep_family)
        skus = [r.item.sku for r in out.results]
        unread = parse_feedback(text).unread() if out.understood else []
        turn = Turn(text, ref, skus, [float(r.score) for r in out.results], out.message,
                    out.reading, unread, out.family, list(out.notes),
                    skus[0] if skus else ref.get("sku"))
        self.turns.append(turn)
        return turn

    def choose(self, sku: str) -> bool:
        """Make ``sku`` (a result of the last turn) the next reference; True if it changed."""
        last = self.turns[-1] if self.turns else None
        if last is None or sku not in last.skus or last.next == sku:
            return False
        last.next = sku
        return True

    def step_back(self) -> None:
        if self.turns:
            self.turns.pop()


def check_text(text: str | None) -> str:
    """The feedback stripped; FeedbackRejected when it is empty (a turn that changes nothing
    would only clutter the history) or longer than MAX_TEXT characters."""
    text = (text or "").strip()
    if not text:
        raise FeedbackRejected(NO_FEEDBACK)
    if len(text) > MAX_TEXT:
        raise FeedbackRejected(
            f"Feedback is limited to {MAX_TEXT} characters (this one has {len(text):,}): "
            "say the main change in a short sentence, e.g. “in red with long sleeves”.")
    return text


def short_text(text: str, limit: int = 60) -> str:
    """A turn's text for a heading or label: one line, at most ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
