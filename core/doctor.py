"""Catalog health: files without items, items without files, vectors without items, and what
a killed run or a killed database server leaves behind (temp files, a stale pid file).

Ingest writes an image file before the record that names it, so a run that loses its
database in between leaves a file no item references. Those are found here and, once older
than a grace period (a running ingest may still be about to record them), removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.config import Settings
from core.storage import Repository, audit, data_file, database_label
from core.storage.embedded import clear_stale_pid_file, pid_file_state

log = logging.getLogger(__name__)

STORES = ("images", "masks")  # the content-addressed file stores under DATA_DIR
EXAMPLES = 3


@dataclass
class Finding:
    """One kind of problem: how many, a few examples, how many were repaired and how."""

    kind: str
    title: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    fixed: int = 0
    action: str = ""

    @property
    def left(self) -> int:
        return self.count - self.fixed

    def found(self, names: list[str]) -> Finding:
        self.count, self.examples = len(names), names[:EXAMPLES]
        return self


@dataclass
class DoctorReport:
    data_dir: str
    database: str
    databases_checked: list[str]
    grace_s: float
    fix: bool
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    vector_index: str = ""  # which vector index searches use, and why (core.index.mongo)

    @property
    def healthy(self) -> bool:
        return all(f.left == 0 for f in self.findings)

    def to_dict(self) -> dict:
        return {**asdict(self), "healthy": self.healthy,
                "findings": {f.kind: {**asdict(f), "left": f.left} for f in self.findings}}

    def lines(self) -> list[str]:
        out = [f"catalog at {self.database}, files under {self.data_dir}"]
        if self.vector_index:
            out.append(f"  {self.vector_index}")
        for f in self.findings:
            mark = "ok  " if f.count == 0 else ("fixed" if f.left == 0 else "FOUND")
            line = f"  {mark} {f.title}: {f.count}"
            if f.examples:
                line += f" (e.g. {', '.join(f.examples)})"
            out.append(line + (f" -> {f.action}" if f.action and f.count else ""))
        out += [f"  note: {n}" for n in self.notes]
        out.append("healthy" if self.healthy else
                   "problems left: `python -m core doctor --fix` repairs what is safe")
        return out


@dataclass(frozen=True)
class Options:
    fix: bool = False
    drop_missing: bool = False  # with fix: delete items whose image file is missing
    grace_s: float = 3600.0  # orphan and temp files younger than this are left alone


def run_doctor(settings: Settings, opts: Options,
               open_repo: Callable[[Settings], Repository]) -> DoctorReport:
    """Check the catalog of ``settings`` (and repair what is safe when ``opts.fix``)."""
    pid = _stale_pid(settings, opts)  # before opening: starting the server clears it
    repo = open_repo(settings)
    report = DoctorReport(
        data_dir=str(settings.data_dir), database=f"{database_label(settings, repo.conn.uri)} "
        f"db={repo.db.name}", databases_checked=audit.catalog_databases(repo),
        grace_s=opts.grace_s, fix=opts.fix)
    if pid.count and pid.fixed == 0 and settings.embedded:
        pid.fixed, pid.action = pid.count, "removed when the embedded server started"
    report.findings = [pid, _missing_images(repo, settings.data_dir, opts),
                       _orphan_vectors(repo, opts),
                       _orphan_files(repo, settings.data_dir, opts, report),
                       _stale_temps(settings.data_dir, opts)]
    report.vector_index = _vector_index(settings, repo)
    if len(report.databases_checked) > 1:
        report.notes.append("files named by the items of " +
                            ", ".join(report.databases_checked[1:]) + " are kept too")
    return report


def _vector_index(settings: Settings, repo: Repository) -> str:
    """'vector index: in-process (server has no $vectorSearch: ...)' or the server's index."""
    from core.index.mongo import describe

    return describe(repo, settings.backbone, settings.index_kind)


def _stale_pid(settings: Settings, opts: Options) -> Finding:
    finding = Finding("stale_pid", "stale pid file of the embedded server")
    state, _, why = pid_file_state(settings.data_dir / "mongo")
    if state != "stale":
        return finding
    finding.found([f"mongo/nx.pid ({why})"])
    if opts.fix and clear_stale_pid_file(settings.data_dir):
        finding.fixed, finding.action = 1, "removed"
    else:
        finding.action = "--fix removes it"
    return finding


def _missing_images(repo: Repository, data_dir: Path, opts: Options) -> Finding:
    finding = Finding("missing_images", "items whose image file is missing")
    missing = [sku for sku, image, _ in audit.item_files(repo)
               if not image or not data_file(data_dir, image).is_file()]
    finding.found(missing)
    if not missing:
        return finding
    if opts.fix and opts.drop_missing:
        finding.fixed = audit.drop_items(repo, missing)
        finding.action = "items and their vectors deleted"
    else:
        finding.action = ("--fix --drop-missing deletes these items (or put their files "
                          "back and re-run doctor)")
    return finding


def _orphan_vectors(repo: Repository, opts: Options) -> Finding:
    finding = Finding("orphan_vectors", "vectors without an item")
    by_model = audit.vectors_without_items(repo)
    finding.found([f"{m}|{s}" for m, skus in by_model.items() for s in skus])
    if finding.count:
        if opts.fix:
            finding.fixed = sum(repo.delete_vectors(m, skus) for m, skus in by_model.items())
        finding.action = "deleted" if opts.fix else "--fix deletes them"
    return finding


def _orphan_files(repo: Repository, data_dir: Path, opts: Options,
                  report: DoctorReport) -> Finding:
    finding = Finding("orphan_files", f"image/mask files no item names (older than "
                                      f"{opts.grace_s:g} s)")
    old, recent = scan_orphan_files(repo, data_dir, opts.grace_s, report.databases_checked)
    finding.found([p.relative_to(data_dir).as_posix() for p in old])
    if recent:
        report.notes.append(f"{len(recent)} unreferenced file(s) younger than the grace period "
                            "left alone (a running ingest may still record them)")
    if finding.count:
        finding.fixed = _unlink(old) if opts.fix else 0
        finding.action = "deleted" if opts.fix else "--fix deletes them"
    return finding


def _stale_temps(data_dir: Path, opts: Options) -> Finding:
    finding = Finding("stale_temps", f"temp files of killed runs (older than {opts.grace_s:g} s)")
    now = time.time()
    temps = [p for sub in STORES for p in (data_dir / sub).glob("*/.tmp-*")
             if now - _mtime(p, now) > opts.grace_s]
    finding.found([p.relative_to(data_dir).as_posix() for p in temps])
    if finding.count:
        finding.fixed = _unlink(temps) if opts.fix else 0
        finding.action = "deleted" if opts.fix else "--fix deletes them"
    return finding


def scan_orphan_files(repo: Repository, data_dir: Path, grace_s: float,
                      databases: list[str] | None = None) -> tuple[list[Path], list[Path]]:
    """Files of the image/mask stores that no item names: (older than grace_s, younger)."""
    known = audit.stored_hashes(repo)  # files are named by content hash: most match directly
    candidates = [p for p in _store_files(data_dir) if p.stem not in known]
    if not candidates:
        return [], []
    forms = {p: (p.relative_to(data_dir).as_posix(), str(p)) for p in candidates}
    named = audit.referenced_paths(repo, [f for pair in forms.values() for f in pair],
                                   databases or audit.catalog_databases(repo))
    orphans = [p for p, pair in forms.items() if not named.intersection(pair)]
    now = time.time()
    old = [p for p in orphans if now - _mtime(p, now) > grace_s]
    return old, sorted(set(orphans) - set(old))


def sweep_orphan_files(repo: Repository, data_dir: Path, grace_s: float) -> int:
    """Delete image/mask files older than grace_s that no item names; returns how many."""
    old, _ = scan_orphan_files(repo, Path(data_dir), grace_s)
    removed = _unlink(old)
    if removed:
        log.info("removed %d image/mask files no item names under %s", removed, data_dir)
    return removed


def _store_files(data_dir: Path) -> list[Path]:
    return sorted(p for sub in STORES for p in (data_dir / sub).rglob("*")
                  if not p.name.startswith(".") and p.is_file())




def _mtime(path: Path, default: float) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed meanwhile
        return default


def _unlink(paths: list[Path]) -> int:
    removed = 0
    for p in paths:
        try:
            p.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    return removed
