"""Database outages in words: what the CLI and the pages say when MongoDB is gone.

pymongo's messages carry a topology description several hundred characters long; people need
the (masked) address and a short cause instead.
"""

from __future__ import annotations

import re

from pymongo.errors import ConnectionFailure, OperationFailure, ServerSelectionTimeoutError

from core.config import Settings

# Every way pymongo says "the server is not answering": AutoReconnect, NetworkTimeout,
# ServerSelectionTimeoutError and WaitQueueTimeoutError all derive from ConnectionFailure.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (ConnectionFailure,)

_CAUSES = (  # (pattern in pymongo's message, what to say), first match wins
    (r"connection refused", "connection refused"),
    (r"name or service not known|nodename nor servname|getaddrinfo|no address associated",
     "host name not found"),
    (r"authentication failed", "authentication failed"),
    (r"connection closed|connection reset|broken pipe|eof occurred", "connection closed"),
    (r"timed out|timeout", "timed out"),
)


def mask_uri(uri: str) -> str:
    """Hide the password in a MongoDB URI: mongodb://user:***@host/."""
    return re.sub(r"(mongodb(?:\+srv)?://[^:/@]+):[^@/]*@", r"\1:***@", uri)


def is_connection_loss(exc: BaseException) -> bool:
    """True for pymongo's connection errors (the server stopped answering or is unreachable)."""
    return isinstance(exc, CONNECTION_ERRORS)


def short_cause(exc: BaseException) -> str:
    """A few words on why the database did not answer, e.g. 'connection refused'."""
    text = _headline(str(exc)).lower()
    for pattern, cause in _CAUSES:
        if re.search(pattern, text):
            return cause
    if isinstance(exc, ServerSelectionTimeoutError):
        return "timed out"
    if isinstance(exc, OperationFailure):
        return f"server error {exc.code}" if exc.code else "server error"
    return _headline(str(exc))[:120] or type(exc).__name__


def _headline(message: str) -> str:
    """pymongo's message without the topology description, timeouts and server address."""
    first = message.splitlines()[0] if message else ""
    first = first.split(", Timeout:")[0].split(" (configured timeouts")[0]
    return re.sub(r"^[\w.\-\[\]:]+:\d+: ", "", first).strip()


def database_label(settings: Settings | None, uri: str | None = None) -> str:
    """Where the database is, password hidden: the URI in use, else the configured one."""
    if uri:
        return mask_uri(uri)
    if settings is not None and settings.mongo_uri:
        return mask_uri(settings.mongo_uri)
    if settings is not None:
        return f"the embedded server ({settings.data_dir / 'mongo'})"
    return "the configured database"


def lost_message(label: str, what: str, exc: BaseException | None = None) -> str:
    """One line for a command that lost its database part-way."""
    cause = f" ({short_cause(exc)})" if exc is not None else ""
    return (f"The database at {label} stopped answering during {what}{cause}; nothing was "
            "half-written; re-run the command")


def lost_on_page(label: str, exc: BaseException) -> str:
    """One line for a page that lost its database part-way through drawing."""
    return (f"The database at {label} stopped answering ({short_cause(exc)}) while this page "
            "was loading; nothing was half-written. Reload the page to try again.")
