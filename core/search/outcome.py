"""What a search returns: its results, the query photo's reading (colour, pattern, category)
and how it was run, with the captions the Search page shows; and the category count of a
set of photos."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from core.storage import Item
from core.tagging.colour import ColourReading


@dataclass
class SearchResult:
    item: Item
    score: float

    def to_json(self, data_dir: Path | None = None) -> dict[str, Any]:
        image = Path(self.item.image_path)
        if data_dir is not None and not image.is_absolute():
            image = Path(data_dir) / image
        return {"id": self.item.sku, "score": round(float(self.score), 6),
                "category": self.item.category, "attrs": dict(self.item.attrs),
                "image": str(image)}


@dataclass
class SearchOutcome:
    results: list[SearchResult]
    model_id: str
    query_image: Image.Image | None = None
    masked_image: Image.Image | None = None  # what the model saw, when masking is on
    prediction: list[tuple[str, float]] | None = None  # category-aware: top-k (category, p)
    restricted_to: str | None = None  # the category the search was limited to
    candidates: int | None = None  # items allowed by the filters (None: whole catalog)
    match: str = "similar"  # "similar" or "item" (this exact item)
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    colour: ColourReading | None = None  # the query photo's colour, read off its pixels
    pattern: str | None = None  # the query's pattern, when the model predicts one
    colour_ranked: bool = False  # results of the read colour ranked first among near-ties
    colour_choice: str | None = None  # the colour the shopper named instead of the reading
    # the encoder's top categories for the photo: colour ranking favours only items that could
    # be the same kind of garment
    category_guess: list[tuple[str, float]] | None = None
    unembedded: int = 0  # items that pass the filters but have no vector of the model yet

    def read_as(self) -> str | None:
        """'olive, solid' / 'navy and white' / 'navy (or black)': what the photo was read as
        (with the runner-up colour when the reading is torn), or None."""
        if self.colour is None:
            return None
        second, other = self.colour.second, self.colour.runner_up()
        colour = self.colour.name + (f" and {second}" if second else "") + \
            (f" (or {other})" if other and other != second else "")
        return ", ".join(p for p in (colour, self.pattern) if p)

    def ranking_colour(self) -> ColourReading | None:
        """What colour ranking follows: the shopper's colour when they named one, else the
        reading."""
        return ColourReading.stated(self.colour_choice) if self.colour_choice else self.colour

    def results_caption(self) -> tuple[str, str]:
        """(caption, tooltip) over the results: how many, among what, in which order, by which
        model and how fast; the tooltip says what the percentage is and why a lower one can
        come first."""
        scope = f"within **{self.restricted_to}** " if self.restricted_to else ""
        among = ("the whole catalog" if self.candidates is None else
                 f"{self.candidates:,} items" if self.restricted_to else
                 f"{self.candidates:,} items passing the filters")
        ranked = self.ranking_colour() if self.colour_ranked else None
        first = f" · **{ranked.name}** first among near-equals" if ranked else ""
        how = " · exact-item match" if self.match == "item" else ""
        text = (f"{len(self.results)} best matches {scope}among {among}{first} · model "
                f"`{self.model_id}`{how} · {self.timings_ms.get('total', 0):.0f} ms")
        why = "The percentage under an item is how alike it looks."
        if ranked:
            why += (f" Items whose colour is {ranked.name} come first among near-equally alike "
                    "ones that could be the same kind of garment, so a lower percentage can come "
                    "first; *Prefer the photo's colour* in the sidebar turns that off.")
        return text, why

    def to_json(self, data_dir: Path | None = None) -> dict[str, Any]:
        return {"model_id": self.model_id, "match": self.match,
                "results": [r.to_json(data_dir) for r in self.results],
                "colour": self.colour.to_json() if self.colour else None,
                "pattern": self.pattern, "colour_ranked": self.colour_ranked,
                "colour_choice": self.colour_choice,
                "prediction": [{"category": c, "p": p} for c, p in self.prediction or []],
                "restricted_to": self.restricted_to, "candidates": self.candidates,
                "notes": list(self.notes), "timings_ms": dict(self.timings_ms)}


@dataclass
class CategoryCount:
    """Category counter of a photo set: most common predicted categories in a set of photos."""

    top: list[tuple[str, int]]
    per_image: list[tuple[str, list[tuple[str, float]]]]  # (name, top-3 prediction)
    rejected: list[str]  # "file: reason" of photos that could not be read

    def to_json(self) -> dict[str, Any]:
        return {"top": [{"category": c, "count": n} for c, n in self.top],
                "images": [{"name": n, "prediction": [{"category": c, "p": p} for c, p in pred]}
                           for n, pred in self.per_image],
                "rejected": self.rejected}


def upload_choices(names: list[str], readable: set[str] | list[str], seen: list[str]
                   ) -> tuple[list[str], str | None]:
    """The "Search with" options for several uploaded photos (readable ones first, in upload
    order) and the one to switch to: the newest readable photo not ``seen`` before (None
    when nothing new arrived, so the shopper's own choice stays)."""
    options = [n for n in names if n in readable] + [n for n in names if n not in readable]
    new = [n for n in names if n not in seen and n in readable]
    return options, (new[-1] if new and seen else None)
