"""Reading a tabular file (CSV, a JSON array of objects, or JSON lines) into records that
remember where they came from, and collecting what is wrong with them.

Structural faults (not UTF-8, empty, malformed CSV or JSON, a missing column) raise
:class:`ImportProblem` at once: nothing below them can be read. Faults of single records are
collected in :class:`Problems` so that one message can name them all (grouped by what is
wrong, a few examples each, with their line or record numbers).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
MAX_EXAMPLES = 5  # per kind of problem in a message


class ImportProblem(ValueError):
    """A file that cannot be imported; the message names the file, where and why."""


@dataclass(frozen=True)
class Record:
    where: str  # "line 4" (CSV, JSON lines) or "record 3" (JSON array)
    values: dict[str, Any]  # keys stripped and lower-cased


@dataclass
class Problems:
    """Faults of single records, grouped by (file, kind) in the order first seen."""

    found: dict[tuple[str, str], list[tuple[str, Any]]] = field(default_factory=dict)

    def add(self, name: str, where: str, kind: str, value: Any = None) -> None:
        """One fault: in file ``name`` at ``where``, ``kind`` (what is wrong), the value."""
        self.found.setdefault((name, kind), []).append((where, value))

    def __len__(self) -> int:
        return sum(len(v) for v in self.found.values())

    def message(self) -> str:
        """E.g. "p.csv line 4: bad ts 'soon'; p.csv: unknown sku in 12 records (line 5
        'X1', …, line 30 'X5' and 7 more); nothing was imported"."""
        def shown(where: str, value: Any) -> str:
            return where if value is None else f"{where} {value!r}"

        parts = []
        for (name, kind), hits in self.found.items():
            if len(hits) == 1:
                where, value = hits[0]
                parts.append(f"{name} {where}: {kind}" + ("" if value is None else f" {value!r}"))
                continue
            more = f" and {len(hits) - MAX_EXAMPLES} more" if len(hits) > MAX_EXAMPLES else ""
            examples = ", ".join(shown(*h) for h in hits[:MAX_EXAMPLES])
            parts.append(f"{name}: {kind} in {len(hits)} records ({examples}{more})")
        return "; ".join(parts) + "; nothing was imported"

    def check(self) -> None:
        """Raise ImportProblem naming everything found, if anything was."""
        if self.found:
            raise ImportProblem(self.message())


def read_records(data: bytes | str, name: str, required: Sequence[str],
                 problems: Problems) -> list[Record]:
    """The file's records (blank rows skipped); ImportProblem when it cannot be read, is
    empty or lacks a required column."""
    text = _decode(data, name)
    if not text.strip():
        raise ImportProblem(f"{name}: the file is empty")
    if _is_json(text, name):
        records = _json_records(text, name)
        columns = {k for r in records for k in r.values}
    else:
        columns, records = _csv_records(text, name, problems)
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportProblem(f"{name}: missing column {', '.join(map(repr, missing))} (it has "
                            f"{', '.join(sorted(columns)) or 'none'})")
    if not records:
        problems.check()  # every row was faulty: say why
        raise ImportProblem(f"{name}: no records (only a header)")
    return records


def _decode(data: bytes | str, name: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"{name}: not UTF-8 text (byte {exc.start})") from None


def _is_json(text: str, name: str) -> bool:
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        return False
    return suffix in JSON_SUFFIXES or text.lstrip()[:1] in ("[", "{")


def _json_records(text: str, name: str) -> list[Record]:
    """A JSON array of objects, or one object per line."""
    if text.lstrip().startswith("["):
        items = [(f"record {i}", v) for i, v in enumerate(_loads(text, name), 1)]
    else:
        items = [(f"line {n}", _loads(line, name, n)) for n, line in
                 enumerate(text.splitlines(), 1) if line.strip()]
    out = []
    for where, value in items:
        if not isinstance(value, dict):
            raise ImportProblem(f"{name} {where}: expected an object "
                                f"{{\"customer_id\": …}}, got {type(value).__name__}")
        out.append(Record(where, {str(k).strip().lower(): v for k, v in value.items()}))
    return out


def _loads(text: str, name: str, line: int | None = None) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        at = f"line {line if line is not None else exc.lineno} column {exc.colno}"
        raise ImportProblem(f"{name} {at}: malformed JSON ({exc.msg}); expected a JSON array "
                            "of objects or one object per line") from None
    return value


def _csv_records(text: str, name: str, problems: Problems) -> tuple[set[str], list[Record]]:
    """The header's columns and the rows as records; rows with more values than the header
    has columns are problems (fewer values leave the last columns empty)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise ImportProblem(f"{name} line 1: column {dupes[0]!r} appears twice")
        records, start = [], reader.line_num + 1
        for row in reader:
            where, start = f"line {start}", reader.line_num + 1
            if not any(v.strip() for v in row):
                continue
            if len(row) > len(header):
                problems.add(name, where, f"{len(row)} values for {len(header)} columns")
                continue
            records.append(Record(where, dict(zip(header, row, strict=False))))
    except csv.Error as exc:
        raise ImportProblem(f"{name} line {reader.line_num}: malformed CSV ({exc})") from None
    return set(header), records
