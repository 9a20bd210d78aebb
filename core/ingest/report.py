"""What an ingest run returns: counts, one line per rejected input, timing."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class IngestError(ValueError):
    """The path cannot be ingested at all (missing, or not a recognised source)."""


@dataclass(frozen=True)
class Rejection:
    """One input that was not ingested; ``file`` names it, ``reason`` says why (one line)."""

    file: str
    reason: str

    def __str__(self) -> str:
        return f"{printable(self.file)}: {self.reason}"


def printable(text: str) -> str:
    """Control characters shown as escapes, so that a report line stays one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


@dataclass
class IngestReport:
    added: int = 0
    replaced: int = 0  # stored items given a new image (--replace)
    duplicates: int = 0
    supplied: int = 0  # stored items whose predicted or missing tags got supplied values
    rejected: list[Rejection] = field(default_factory=list)
    format: str = ""
    seconds: float = 0.0
    path: str = ""
    docs: dict[str, int] = field(default_factory=dict)  # stores/outfits/pairs written

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rejected"] = [asdict(r) for r in self.rejected]
        return out

    def summary_lines(self) -> list[str]:
        """Human summary: totals, then one line per rejection."""
        replaced = f"replaced {self.replaced}, " if self.replaced else ""
        lines = [f"{self.format}: added {self.added}, {replaced}skipped as duplicate "
                 f"{self.duplicates}, rejected {len(self.rejected)} ({self.seconds:.1f} s)"]
        if self.supplied:
            lines.append(f"supplied category, colour or pattern of {self.supplied} stored "
                         "items (predicted values replaced)")
        if self.docs:
            lines.append("documents: " + ", ".join(f"{k} {v}" for k, v in self.docs.items()))
        lines.extend(f"rejected {r}" for r in self.rejected)
        return lines
