"""The first-run console: one step list, one bar at a time, plain lines off a terminal."""

from __future__ import annotations

import io

from tqdm import tqdm

from core.cli.stages import StageBars

STAGES = ("build", "ingest", "embed")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(stream) -> StageBars:
    bars = StageBars(STAGES, stream=stream, title="set-up")
    opened = []
    for stage, total in (("build", 4), ("ingest", 4), ("embed", 2)):
        for done in range(total + 1):
            bars(stage, done, total)
            opened.append((bars.bar, len(getattr(tqdm, "_instances", ()))))
    bars.finish()
    return bars, opened


def test_off_a_terminal_each_stage_is_two_plain_lines():
    out = io.StringIO()
    _run(out)
    text = out.getvalue()
    assert "\r" not in text and "\x1b[" not in text
    assert text.splitlines()[0] == "set-up: build → ingest → embed"
    assert [line.split(" done")[0].rstrip(" …") for line in text.splitlines()[1:]] == [
        "[1/3] build", "[1/3] build", "[2/3] ingest", "[2/3] ingest", "[3/3] embed",
        "[3/3] embed"]
    assert "[2/3] ingest done: 4/4 items in" in text


def test_on_a_terminal_one_bar_at_a_time():
    out = _Terminal()
    bars, opened = _run(out)
    assert len({id(b) for b, _ in opened}) == 3  # one bar per stage …
    assert max(n for _, n in opened) == 1  # … and never two open at once
    assert bars.bar is None
    assert "[1/3] build" in out.getvalue() and "[3/3] embed" in out.getvalue()
