"""Catalog jobs a page starts and waits for: embed the items a model lacks, and ingest a folder
then embed and tag what it added, so new items show up in Search and Explore at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from core.bootstrap import StageProgress, embed_and_tag
from core.config import Settings
from core.ingest.report import IngestReport
from core.storage import Repository

log = logging.getLogger(__name__)


def missing_vectors(repo: Repository, model_id: str) -> int:
    """How many catalog items have no vector of ``model_id`` yet."""
    return max(0, repo.count_items() - repo.vector_count(model_id))


def embed_missing(repo: Repository, settings: Settings, model_id: str, *,
                  progress=None) -> int:
    """Embed every item lacking a vector of ``model_id`` (a backbone, "+mask" for garment
    masking); ``progress(done, total)``. Returns how many were embedded."""
    from core.models.embed import embed_and_pack

    backbone, _, suffix = model_id.partition("+")
    return embed_and_pack(repo, settings, backbone, mask=suffix == "mask", progress=progress)


@dataclass
class IngestOutcome:
    """An ingest from a page, with what was embedded and tagged afterwards."""

    report: IngestReport
    embedded: int = 0
    tagged: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """"Added 12 items; embedded 12; they now appear in Search and Explore." and the rest."""
        r = self.report
        bits = [f"Added {r.added:,} item{'s' if r.added != 1 else ''}"]
        if r.added:
            bits.append(f"embedded {self.embedded:,}")
        if r.added and self.embedded:
            bits.append("they now appear in Search and Explore")
        elif r.added:
            bits.append("they are not searchable until they are embedded")
        text = "; ".join(bits) + "."
        if self.tagged:
            text += (f" Predicted the missing category, colour or pattern of {self.tagged:,} "
                     "(marked ≈ on their cards).")
        extra = [f"skipped {r.duplicates:,} duplicate{'s' if r.duplicates != 1 else ''}"
                 ] if r.duplicates else []
        if r.rejected:
            extra.append(f"rejected {len(r.rejected):,}")
        return text + (f" ({', '.join(extra)}.)" if extra else "")


def ingest_and_embed(repo: Repository, settings: Settings, path: str | Path, *,
                     progress: StageProgress | None = None) -> IngestOutcome:
    """Ingest ``path`` (IngestError when it is no source), then embed the new items for the
    active backbone (and its masked variant when that one is in use) and tag them."""
    from core.ingest import ingest_path

    stage = (lambda name: (lambda d, t: progress(name, d, t))) if progress else (lambda _: None)
    report = ingest_path(repo, settings, Path(path).expanduser(), progress=stage("ingest"))
    outcome = IngestOutcome(report)
    if not (report.added or report.replaced):
        return outcome
    done = embed_and_tag(repo, settings, progress)
    outcome.embedded, outcome.tagged, outcome.notes = done.embedded, done.tagged, done.notes
    masked = f"{settings.backbone}+mask"
    if repo.vector_count(masked):  # garment masking has been used: keep it complete too
        embed_missing(repo, settings, masked, progress=stage("embed"))
    return outcome
