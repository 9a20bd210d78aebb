"""Helpers shared by the command modules: settings, repository, JSON output, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from core.config import Settings, load_settings


class CliError(Exception):
    """A failure reported as one line on stderr with an exit code (2 bad input, 1 other)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def settings() -> Settings:
    """The configuration, or a one-line CLI error naming the bad setting."""
    from core.config import SettingsError

    try:
        return load_settings()
    except SettingsError as exc:
        raise CliError(str(exc), code=2) from None


# The database the command opened: outage messages name it (the embedded server's port is
# only known once it runs).
_OPENED: dict[str, Any] = {}


def repository(cfg: Settings | None = None):
    """Open the configured repository or fail with the masked URI in the message."""
    from core.storage import DatabaseUnavailable, open_repository

    cfg = cfg or settings()
    _OPENED["settings"] = cfg
    try:
        repo = open_repository(cfg)
    except DatabaseUnavailable as exc:
        raise CliError(str(exc), code=1) from None
    _OPENED["uri"] = repo.conn.uri
    return repo


def database_error(exc: BaseException, what: str) -> str | None:
    """The one-line report for a database that is unreachable or stopped answering during
    ``what``; None when ``exc`` is some other error."""
    if "pymongo" not in sys.modules:  # nothing talked to a database
        return None
    from core.storage import DatabaseUnavailable, database_label, is_connection_loss, lost_message

    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    if not is_connection_loss(exc):
        return None
    label = database_label(_OPENED.get("settings") or _settings_or_none(), _OPENED.get("uri"))
    return lost_message(label, what, exc)


def _settings_or_none() -> Settings | None:
    from core.config import SettingsError

    try:
        return load_settings()
    except SettingsError:
        return None


def load_embedder(cfg: Settings, backbone: str | None = None, *, mask: bool = False):
    """The image encoder ``backbone`` (default: the configured one), or a one-line CLI error
    naming the missing weights or the unknown name."""
    from core.models.embed import Embedder
    from core.models.registry import MissingWeights

    try:
        return Embedder(backbone or cfg.backbone, cfg, mask=mask)
    except (MissingWeights, KeyError) as exc:
        raise CliError(str(exc).strip("'\"")) from None


def emit_json(payload: Any) -> None:
    """Machine-readable result on stdout (logs go to stderr)."""
    json.dump(payload, sys.stdout, indent=2, default=_default)
    sys.stdout.write("\n")
    sys.stdout.flush()


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def parse_kv(pairs: list[str] | None, what: str = "filter") -> dict[str, Any]:
    """`key=value` pairs (value may be `a,b` for several) into a dict of str or list."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"{what} {pair!r} must look like key=value")
        values = [v.strip() for v in value.split(",") if v.strip()]
        out[key.strip()] = values if len(values) > 1 else (values[0] if values else "")
    return out


def progress_bar(what: str) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr (closed when done)."""
    from tqdm import tqdm

    bar: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=what, file=sys.stderr, leave=False,
                              disable=None)  # no bar (nor cursor escapes) off a terminal
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar.pop("bar").close()

    return update
