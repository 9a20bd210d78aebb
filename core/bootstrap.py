"""First-run setup: build, ingest and embed the demo catalog when the catalog is empty.

Used by `run_app.sh` (through `python -m core demo ensure`) and by the Home page button.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings
from core.progress import Progress, StageProgress
from core.storage import Repository

log = logging.getLogger(__name__)

# progress(stage, done, total) goes through these stages in this order (each may be skipped);
# the map's total is 100: per cent.
STAGES = ("build", "ingest", "embed", "tag", "colours", "map")


@dataclass
class BootstrapReport:
    built: bool = False
    added: int = 0
    rejected: int = 0
    embedded: int = 0
    tagged: int = 0  # items given predicted category, colour or pattern
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def demo_dir(settings: Settings) -> Path:
    return settings.data_dir / "demo"


def _demo_is_built(out: Path, n_items: int, seed: int) -> bool:
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("items") == n_items and manifest.get("seed") == seed


def _stage(progress: StageProgress | None, name: str) -> Progress | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def ensure_demo_catalog(
    repo: Repository, settings: Settings, *, n_items: int = 2000, seed: int = 0,
    progress: StageProgress | None = None, force: bool = False,
) -> BootstrapReport:
    """Build (once), ingest and embed the demo catalog; does nothing when items exist."""
    report = BootstrapReport()
    if repo.count_items() and not force:
        report.notes.append(f"catalog already has {repo.count_items()} items")
        return _embed_missing(repo, settings, progress, report)
    out = demo_dir(settings)
    if not _demo_is_built(out, n_items, seed):
        from core.demo.build import build_catalog

        t0 = time.perf_counter()
        build_catalog(out, n_items, seed, progress=_stage(progress, "build"))
        report.built = True
        report.seconds["build"] = round(time.perf_counter() - t0, 1)
    from core.ingest import ingest_path

    t0 = time.perf_counter()
    ingested = ingest_path(repo, settings, out, progress=_stage(progress, "ingest"))
    report.added, report.rejected = ingested.added, len(ingested.rejected)
    report.seconds["ingest"] = round(time.perf_counter() - t0, 1)
    return _embed_missing(repo, settings, progress, report)


def _embed_missing(repo: Repository, settings: Settings, progress: StageProgress | None,
                   report: BootstrapReport) -> BootstrapReport:
    """Embed (if the backbone's weights are here) and tag items, read the outfit colours and
    draw the Explore map."""
    embed_and_tag(repo, settings, progress, report)
    _outfit_colours(repo, settings, progress, report)
    return _explore_map(repo, settings, progress, report)


def embed_and_tag(repo: Repository, settings: Settings, progress: StageProgress | None = None,
                  report: BootstrapReport | None = None) -> BootstrapReport:
    """Embed items lacking a vector for the active backbone (and pack the vectors), then
    predict the category, colour and pattern items lack (colour alone when the encoder's
    weights are missing)."""
    from core.models.embed import Embedder, embed_and_pack
    from core.models.registry import MissingWeights
    from core.tagging.catalog import tag_catalog

    report = report or BootstrapReport()
    t0 = time.perf_counter()
    embedder = None
    try:
        embedder = Embedder(settings.backbone, settings)
        report.embedded = embed_and_pack(repo, settings, settings.backbone, embedder=embedder,
                                         progress=_stage(progress, "embed"))
    except MissingWeights as exc:
        report.notes.append(f"embedding skipped: {exc}")
        log.warning("embedding skipped: %s", exc)
    report.seconds["embed"] = round(time.perf_counter() - t0, 1)
    tags = tag_catalog(repo, settings, embedder, progress=_stage(progress, "tag"))
    report.tagged = tags.tagged
    if tags.tagged:
        report.seconds["tag"] = tags.seconds
    return report


def _outfit_colours(repo: Repository, settings: Settings, progress: StageProgress | None,
                    report: BootstrapReport) -> BootstrapReport:
    """Read the garment colours the outfit model uses (cached on disk by image hash), so the
    Outfits page does not do it on its first visit."""
    from core.index import NoVectors
    from core.outfits.features import catalog_features

    t0 = time.perf_counter()
    try:
        catalog_features(repo, settings.backbone, settings.data_dir, settings.cache_dir,
                         progress=_stage(progress, "colours"))
    except NoVectors:
        return report  # nothing embedded: the Outfits page says so itself
    report.seconds["colours"] = round(time.perf_counter() - t0, 1)
    return report


def _explore_map(repo: Repository, settings: Settings, progress: StageProgress | None,
                 report: BootstrapReport) -> BootstrapReport:
    """Compute the Explore page's default map (cached in MongoDB until the catalog or its
    vectors change), so that page's first visit reads it instead of running t-SNE."""
    from core.explore.service import ExploreError, MapParams, build_map

    t0 = time.perf_counter()
    step = None if progress is None else (
        lambda fraction, _message: progress("map", round(100 * fraction), 100))
    try:
        emap = build_map(repo, settings.backbone, MapParams(), progress=step,
                         cache_dir=settings.cache_dir)
    except ExploreError:
        return report  # too few vectors: the Explore page says so itself
    if not emap.cached:
        report.seconds["map"] = round(time.perf_counter() - t0, 1)
    return report
