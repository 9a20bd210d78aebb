"""Progress of a run of several stages on stderr: one step list, one bar at a time.

On a terminal each stage gets its own tqdm bar, closed (left as a finished line) before the
next one opens. When stderr is not a terminal (a log file, a pipe) no bar is drawn: one plain
line per stage start and end, without carriage returns or cursor escapes.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


class StageBars:
    """A ``progress(stage, done, total)`` callback for a known, ordered list of stages."""

    def __init__(self, stages: tuple[str, ...], units: dict[str, str] | None = None,
                 stream: TextIO | None = None, title: str = "steps"):
        self.stages, self.units = stages, units or {}
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.current: str | None = None
        self.bar: tqdm | None = None
        self.done = self.total = 0
        self.started = 0.0
        self._line(f"{title}: " + " → ".join(stages))

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _name(self, stage: str) -> str:
        number = self.stages.index(stage) + 1 if stage in self.stages else "?"
        return f"[{number}/{len(self.stages)}] {stage}"

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.current:
            self.finish()
            self.current, self.started = stage, time.perf_counter()
            if self.tty:
                self.bar = tqdm(total=total, desc=self._name(stage), file=self.stream,
                                unit=self.units.get(stage, "item"))
            else:
                self._line(f"{self._name(stage)} …")
        self.done, self.total = done, total
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(done - self.bar.n)  # update() honours tqdm's refresh interval

    def finish(self) -> None:
        """Close the open stage (a finished bar, or its end line)."""
        if self.current is None:
            return
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        else:
            unit = self.units.get(self.current, "items")
            self._line(f"{self._name(self.current)} done: {self.done:,}/{self.total:,} {unit} "
                       f"in {time.perf_counter() - self.started:.1f}s")
        self.current = None
