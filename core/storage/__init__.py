"""Storage: the only package that imports pymongo."""

from __future__ import annotations

from core.config import Settings
from core.storage.embedded import EmbeddedServer, EmbeddedServerError, ensure_server
from core.storage.filters import FilterError, Range, build_query
from core.storage.outage import (
    database_label,
    is_connection_loss,
    lost_message,
    lost_on_page,
    mask_uri,
    short_cause,
)
from core.storage.records import ATTR_KEYS, Item, ItemUpdate, Store, UpsertResult, data_file
from core.storage.repository import (
    Connection,
    DatabaseUnavailable,
    Repository,
    connect,
)

__all__ = [
    "ATTR_KEYS", "Connection", "DatabaseUnavailable", "EmbeddedServer", "EmbeddedServerError",
    "FilterError", "Item", "ItemUpdate", "Range", "Repository", "Store", "UpsertResult",
    "build_query", "connect", "data_file", "database_label", "ensure_server", "is_connection_loss",
    "lost_message", "lost_on_page", "mask_uri", "open_repository", "short_cause",
]


def open_repository(settings: Settings) -> Repository:
    """Connect as configured: MONGO_URI when set, else the embedded server (started on demand)."""
    if settings.embedded:
        try:
            server = ensure_server(settings.data_dir, settings.embedded_port)
        except EmbeddedServerError as exc:
            raise DatabaseUnavailable(str(exc), label=database_label(settings),
                                      cause="the embedded server did not start") from None
        conn = connect(server.uri, embedded=True)
    else:
        conn = connect(settings.mongo_uri, embedded=False)
    return Repository(conn, settings.db_name, settings.collection_name)
