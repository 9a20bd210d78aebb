"""What the CLI and the pages say when the database is unreachable or stops answering."""

from pathlib import Path

import pytest
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from core.config import load_settings
from core.storage.outage import (
    database_label,
    is_connection_loss,
    lost_message,
    lost_on_page,
    mask_uri,
    short_cause,
)

TOPOLOGY = ("127.0.0.1:9: [Errno 111] Connection refused (configured timeouts: socketTimeoutMS: "
            "20000.0ms, connectTimeoutMS: 20000.0ms), Timeout: 0.3s, Topology Description: "
            "<TopologyDescription id: 6b13, topology_type: Single, servers: [<ServerDescription "
            "('127.0.0.1', 9) server_type: Unknown, rtt: None, error=AutoReconnect('...')>]>")


@pytest.mark.parametrize(("exc", "cause"), [
    (ServerSelectionTimeoutError(TOPOLOGY), "connection refused"),
    (AutoReconnect("127.0.0.1:50101: connection closed (configured timeouts: connectTimeoutMS: "
                   "4000.0ms)"), "connection closed"),
    (NetworkTimeout("db.example:27017: timed out"), "timed out"),
    (ServerSelectionTimeoutError("nosuch.invalid:27017: [Errno -2] Name or service not known, "
                                 "Timeout: 0.3s, Topology Description: <...>"),
     "host name not found"),
    (ServerSelectionTimeoutError("Got response id 1 but expected 2, Timeout: 0.5s, Topology "
                                 "Description: <...>"), "timed out"),
    (OperationFailure("Authentication failed.", code=18), "authentication failed"),
    (ConnectionFailure("db.example:27017: something odd"), "something odd"),
])
def test_short_cause_is_a_few_words(exc, cause):
    assert short_cause(exc) == cause


def test_connection_errors_are_recognised():
    for exc in (AutoReconnect("x"), NetworkTimeout("x"), ServerSelectionTimeoutError("x"),
                ConnectionFailure("x")):
        assert is_connection_loss(exc)
    assert not is_connection_loss(OperationFailure("x"))
    assert not is_connection_loss(ValueError("x"))


def test_lost_message_names_masked_uri_command_and_cause():
    label = mask_uri("mongodb://alice:hunter2@db.example:27017/?tls=true")
    msg = lost_message(label, "ingest", AutoReconnect("db.example:27017: connection closed"))
    assert msg == ("The database at mongodb://alice:***@db.example:27017/?tls=true stopped "
                   "answering during ingest (connection closed); nothing was half-written; "
                   "re-run the command")
    assert "\n" not in msg and "hunter2" not in msg


def test_page_message_has_no_topology_description():
    msg = lost_on_page("mongodb://u:***@127.0.0.1:9", ServerSelectionTimeoutError(TOPOLOGY))
    assert "connection refused" in msg and "u:***@127.0.0.1:9" in msg
    assert "Topology" not in msg and "\n" not in msg


def test_database_label_prefers_the_uri_in_use(tmp_path: Path):
    external = load_settings(env_file=tmp_path / "none", MONGO_URI="mongodb://u:pw@h:1/",
                             DATA_DIR=str(tmp_path))
    embedded = external.with_(mongo_uri="")
    assert database_label(external) == "mongodb://u:***@h:1/"
    assert database_label(embedded, "mongodb://127.0.0.1:4242/") == "mongodb://127.0.0.1:4242/"
    assert database_label(embedded) == f"the embedded server ({tmp_path / 'mongo'})"
    assert database_label(None) == "the configured database"


def test_mask_uri_keeps_at_signs_outside_credentials():
    assert mask_uri("mongodb://localhost:27017/?appName=a@b") == \
        "mongodb://localhost:27017/?appName=a@b"
    assert mask_uri("mongodb://u:p@h1:1,h2:2/db") == "mongodb://u:***@h1:1,h2:2/db"
