from pathlib import Path

from core.config import PROJECT_ROOT, load_settings, resolve_device
from core.storage import mask_uri


def test_defaults_without_env_file(tmp_path, monkeypatch):
    for key in ("MONGO_URI", "DB_NAME", "DATA_DIR", "DEVICE"):
        monkeypatch.delenv(key, raising=False)
    s = load_settings(env_file=tmp_path / "missing.env")
    assert s.embedded and s.mongo_uri == ""
    assert s.db_name == "fashion_studio" and s.collection_name == "items"
    assert s.data_dir == PROJECT_ROOT / "data"
    assert s.device in {"cpu", "cuda"}


def test_precedence_file_env_override(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("DB_NAME=from_file\nDATA_DIR=/tmp/x\nCOLLECTION_NAME=garments\n")
    monkeypatch.setenv("DB_NAME", "from_env")
    s = load_settings(env_file=env)
    assert s.db_name == "from_env"
    assert s.collection_name == "garments"
    assert s.data_dir == Path("/tmp/x")
    assert load_settings(env_file=env, DB_NAME="explicit").db_name == "explicit"


def test_relative_paths_resolve_against_project(tmp_path):
    s = load_settings(env_file=tmp_path / "none", DATA_DIR="mydata", WEIGHTS_DIR="w")
    assert s.data_dir == PROJECT_ROOT / "mydata" and s.weights_dir == PROJECT_ROOT / "w"
    assert s.images_dir == s.data_dir / "images"


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("CUDA:1") == "cuda:1"
    assert resolve_device("auto") in {"cpu", "cuda"}


def test_mask_uri_hides_password():
    assert mask_uri("mongodb://bob:s3cret@db.example:27017/x") == "mongodb://bob:***@db.example:27017/x"
    assert mask_uri("mongodb+srv://u:p@c.net/") == "mongodb+srv://u:***@c.net/"
    assert mask_uri("mongodb://localhost:27017") == "mongodb://localhost:27017"


def test_index_kind_setting(tmp_path, monkeypatch):
    import pytest

    from core.config import INDEX_KINDS, SettingsError

    monkeypatch.delenv("INDEX_KIND", raising=False)
    none = tmp_path / "none.env"
    assert load_settings(env_file=none).index_kind == "auto"
    for kind in INDEX_KINDS:
        assert load_settings(env_file=none, INDEX_KIND=kind.upper()).index_kind == kind
    env = tmp_path / ".env"
    env.write_text("INDEX_KIND=hnsw\n")
    assert load_settings(env_file=env).index_kind == "hnsw"
    monkeypatch.setenv("INDEX_KIND", "ivf")
    assert load_settings(env_file=env).index_kind == "ivf"
    monkeypatch.setenv("INDEX_KIND", "annoy")
    with pytest.raises(SettingsError, match=r"INDEX_KIND='annoy'.*auto, exact, hnsw, ivf, mongo"):
        load_settings(env_file=env)
