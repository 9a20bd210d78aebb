"""The ingest pipeline: validate -> dedupe by content hash -> store the file -> upsert the record.

Crash safety: a normalised image (and its mask) is written atomically before the record that
points at it, and records are inserted per batch. A run killed at any point leaves only
complete files and complete records; the rerun skips what is stored (by hash) and finishes.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import Settings
from core.doctor import sweep_orphan_files
from core.images import (
    MAX_PIXELS,
    MIN_SIDE,
    Decoded,
    ImageRejected,
    content_hash,
    decode_bytes,
    read_source,
    save_normalized,
    unsupported_suffix,
    write_atomic,
)
from core.ingest.claims import SkuClaims, replace_items
from core.ingest.demo import referenced_skus
from core.ingest.detect import detect_source
from core.ingest.report import IngestReport, Rejection
from core.ingest.sources import Candidate, Source
from core.progress import Progress
from core.storage import Item, Repository
from core.storage.validate import InvalidField, check_attrs, check_label, validate_item
from core.tagging.merge import MISSING_VALUES, supplied_update

log = logging.getLogger(__name__)

BATCH = 64
WORKERS = 2  # PIL releases the GIL while decoding/encoding
STALE_TEMP_S = 3600  # older temp files belong to no live writer


def ingest_path(repo: Repository, settings: Settings, path: str | Path, *,
                progress: Progress | None = None, limit: int | None = None,
                max_pixels: int = MAX_PIXELS, replace: bool = False) -> IngestReport:
    """Ingest every supported input under ``path``; IngestError if it is not a source.
    With ``replace``, a new image given an existing sku replaces that item's image."""
    t0 = time.perf_counter()
    source = detect_source(path)
    report = IngestReport(format=source.format, path=str(Path(path)),
                          rejected=list(source.rejections))
    if not source.fatal:
        candidates = source.candidates if limit is None else source.candidates[: max(0, limit)]
        writer = _Writer(repo, settings, report, source, max_pixels)
        writer.claims = SkuClaims(repo, replace=replace)
        writer.run(candidates, progress)
        if source.docs:
            report.docs = _write_docs(repo, source.docs)
    report.seconds = round(time.perf_counter() - t0, 2)
    _journal(repo, report)
    log.info("ingest %s: added %d, replaced %d, duplicates %d, rejected %d in %.1f s",
             source.format, report.added, report.replaced, report.duplicates,
             len(report.rejected), report.seconds)
    return report


class _Writer:
    """Processes candidates in batches and counts into the report."""

    def __init__(self, repo: Repository, settings: Settings, report: IngestReport,
                 source: Source, max_pixels: int):
        self.repo, self.report, self.max_pixels = repo, report, max_pixels
        self.data_dir = settings.data_dir
        self.origin = f"{source.format}:{source.root.name}"
        self.seen: set[str] = set()
        self.claims = SkuClaims(repo)

    def run(self, candidates: list[Candidate], progress: Progress | None) -> None:
        sweep_stale_temps(self.data_dir)
        sweep_orphan_files(self.repo, self.data_dir, STALE_TEMP_S)  # of runs killed mid-batch
        total = len(candidates)
        if progress:
            progress(0, total)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for start in range(0, total, BATCH):
                self._batch(candidates[start : start + BATCH], pool)
                if progress:
                    progress(min(start + BATCH, total), total)
        if self.report.duplicates and not self.report.added:
            # a run killed between its insert and its version bump left caches stale; the
            # re-run, which finds only what that run stored, moves the version on
            self.repo.bump_catalog_version()

    def _batch(self, chunk: list[Candidate], pool: ThreadPoolExecutor) -> None:
        loaded = []
        for cand, got in zip(chunk, pool.map(_read, chunk), strict=True):
            if isinstance(got, Rejection):
                self.report.rejected.append(got)
            else:
                loaded.append((cand, got, content_hash(got)))
        known = self._stored_hashes([digest for _, _, digest in loaded])
        self._supply([(c, d) for c, _, d in loaded if d in known])
        todo = []
        for cand, data, digest in loaded:
            if digest in known or digest in self.seen:
                self.report.duplicates += 1
            else:
                self.seen.add(digest)
                todo.append((cand, data, digest))
        todo = self._claim(todo)
        items = []
        for (cand, _data, digest), got in zip(todo, pool.map(self._store, todo), strict=True):
            if isinstance(got, Rejection):
                self.seen.discard(digest)
                self.claims.release(cand.sku)
                self.report.rejected.append(got)
            else:
                items.append(got)
        self._write(items)

    def _claim(self, todo: list[tuple[Candidate, bytes, str]]
               ) -> list[tuple[Candidate, bytes, str]]:
        """The jobs whose sku is free (or may replace); a conflict rejects the image."""
        self.claims.load([c.sku for c, _, _ in todo if c.sku])
        kept = []
        for job in todo:
            conflict = self.claims.claim(job[0].sku, job[2], job[0].label)
            if conflict:
                self.seen.discard(job[2])
                self.report.rejected.append(conflict)
            else:
                kept.append(job)
        return kept

    def _write(self, items: list[Item]) -> None:
        new = [it for it in items if not self.claims.replaces(it.sku)]
        if new:
            result = self.repo.upsert_items(new)
            self.report.added += result.added
            self.report.duplicates += result.duplicates
        old = [it for it in items if self.claims.replaces(it.sku)]
        if old:
            self.report.replaced += replace_items(self.repo, self.data_dir, old,
                                                  self.claims.stored)

    def _supply(self, stored: list[tuple[Candidate, str]]) -> None:
        """Values a source supplies for images already stored replace their predicted (or
        missing) category, colour and pattern; values supplied before are kept."""
        wanted = {d: _supplied_values(c) for c, d in stored}
        wanted = {d: v for d, v in wanted.items() if v}
        if not wanted:
            return
        updates = [supplied_update(item, wanted[item.hash], replace_supplied=False)
                   for item in self.repo.find_items({"hash": list(wanted)}, limit=len(wanted))]
        self.report.supplied += self.repo.apply_item_updates(u for u in updates if u)

    def _stored_hashes(self, digests: list[str]) -> set[str]:
        if not digests:
            return set()
        return {it.hash for it in self.repo.find_items({"hash": digests}, limit=len(digests))}

    def _store(self, job: tuple[Candidate, bytes, str]) -> Item | Rejection:
        """Decode and validate, write the normalised file (and mask), return the record."""
        cand, data, digest = job
        try:
            decoded = decode_bytes(data, cand.label, max_pixels=self.max_pixels,
                                   min_side=MIN_SIDE)
            mask = self._read_mask(cand, digest) if cand.mask else None
            rel = f"images/{digest[:2]}/{digest}.jpg"
            item = validate_item(self._item(cand, digest, rel, mask and mask[0], decoded))
        except ImageRejected as exc:
            return Rejection(cand.label, exc.reason)
        except InvalidField as exc:
            return Rejection(cand.label, f"{_where(cand)}{exc}")
        if mask and not (self.data_dir / mask[0]).is_file():
            write_atomic(mask[1], self.data_dir / mask[0])  # colour codes kept bit-exact
        dest = self.data_dir / rel
        if not dest.is_file():  # content-addressed: an existing file is already complete
            _write_image(decoded, data, dest)
        return item

    def _read_mask(self, cand: Candidate, digest: str) -> tuple[str, bytes]:
        """(where the mask goes, its bytes) once it decodes."""
        mask_label = f"mask {cand.mask.name}"
        try:
            data, _ = read_source(cand.mask, name=mask_label)
            decode_bytes(data, mask_label, max_pixels=self.max_pixels)
        except ImageRejected as exc:
            raise ImageRejected(cand.label, str(exc)) from None
        suffix = cand.mask.suffix.lower() or ".png"
        return f"masks/{digest[:2]}/{digest}{suffix}", data

    def _item(self, cand: Candidate, digest: str, rel: str, mask_rel: str | None,
              decoded: Decoded) -> Item:
        fields = cand.fields
        return Item(
            sku=cand.sku or f"img-{digest[:12]}", image_path=rel, hash=digest,
            category=cand.category or "unknown", attrs=dict(cand.attrs),
            name=fields.get("name") or Path(cand.label).stem, price=fields.get("price"),
            brand=fields.get("brand"), gender=fields.get("gender"),
            store_id=fields.get("store_id"), split=fields.get("split"), mask_path=mask_rel,
            source=self.origin, width=decoded.image.width, height=decoded.image.height,
            extra={**cand.extra, "file": cand.label},
        )


def _supplied_values(cand: Candidate) -> dict[str, Any]:
    """The tagged fields (category, colour, pattern) a candidate's source states."""
    values = {"category": cand.category, **{k: cand.attrs.get(k) for k in ("color", "pattern")}}
    return {k: v for k, v in values.items() if v not in MISSING_VALUES}


def _where(cand: Candidate) -> str:
    """How a record's metadata is named in a rejection (its row, when it came from one)."""
    return f"{cand.where}: " if cand.where else ""


def _read(cand: Candidate) -> bytes | Rejection:
    """The file's bytes once its name and the values that may reach stored items (also
    through an already-stored duplicate) pass; the rejection otherwise."""
    reason = unsupported_suffix(cand.file.name)
    if reason:
        return Rejection(cand.label, reason)
    try:
        check_label("category", cand.category)
        check_attrs(cand.attrs)
    except InvalidField as exc:
        return Rejection(cand.label, f"{_where(cand)}{exc}")
    try:
        data, _ = read_source(cand.file, name=cand.label)
    except ImageRejected as exc:
        return Rejection(cand.label, exc.reason)
    return data


def sweep_stale_temps(data_dir: Path, max_age_s: float = STALE_TEMP_S) -> int:
    """Delete temp files that a killed run left in the image/mask store; returns how many."""
    now, removed = time.time(), 0
    for sub in ("images", "masks"):
        for tmp in (data_dir / sub).glob("*/.tmp-*"):
            try:
                if now - tmp.stat().st_mtime > max_age_s:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:  # another run swept it first
                continue
    if removed:
        log.info("removed %d stale temp files under %s", removed, data_dir)
    return removed


def _write_image(decoded: Decoded, original: bytes, dest: Path) -> None:
    """A plain RGB JPEG is kept byte for byte; anything else is re-encoded as one."""
    if decoded.unchanged:
        write_atomic(original, dest)
    else:
        save_normalized(decoded.image, dest)


def _write_docs(repo: Repository, docs_by_kind: dict[str, list[dict[str, Any]]]
                ) -> dict[str, int]:
    """Upsert side documents; outfits/pairs only when every item they name is stored."""
    counts = {}
    for kind, docs in docs_by_kind.items():
        refs = set().union(*(referenced_skus(kind, d) for d in docs)) if docs else set()
        if refs:
            present = _present_skus(repo, sorted(refs))
            kept = [d for d in docs if referenced_skus(kind, d) <= present]
            if len(kept) < len(docs):
                log.info("%s: %d of %d name items not in the catalog; left out", kind,
                         len(docs) - len(kept), len(docs))
            docs = kept
        counts[kind] = repo.put_docs(kind, docs) if docs else 0
    return counts


def _present_skus(repo: Repository, skus: list[str]) -> set[str]:
    present: set[str] = set()
    for start in range(0, len(skus), 1000):
        present.update(repo.skus({"sku": skus[start : start + 1000]}))
    return present


def _journal(repo: Repository, report: IngestReport) -> None:
    """One document per run that added items (the Home page can show the last ones)."""
    if not report.added and not report.replaced:
        return
    now = datetime.now(UTC)
    repo.put_docs("ingest_journal", [{
        "_id": f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}", "source": report.path,
        "format": report.format, "added": report.added, "replaced": report.replaced,
        "duplicates": report.duplicates,
        "rejected": len(report.rejected), "seconds": report.seconds,
        "finished_at": now.isoformat(timespec="seconds"),
    }])
