"""`python -m core doctor`: a healthy catalog passes; orphan files, missing images and vectors
without items are found, and repaired by --fix (items only with --drop-missing)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from core.cli import main
from core.doctor import sweep_orphan_files
from core.storage import Item, open_repository


def _doctor(capsys, *args: str) -> tuple[int, dict]:
    code = main(["doctor", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def _file(path: Path, age_s: float = 7200) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not referenced")
    os.utime(path, (time.time() - age_s, time.time() - age_s))
    return path


def _break(repo, data_dir: Path, items) -> dict[str, Path]:
    """An old orphan file, a young one, an item without its image, vectors without an item."""
    repo.put_vectors("studio_encoder", ["T000", "GONE1"], np.ones((2, 4), dtype=np.float32))
    (data_dir / items[1].image_path).unlink()
    return {"old": _file(data_dir / "images" / "ab" / ("ab" * 32 + ".jpg")),
            "young": _file(data_dir / "masks" / "cd" / ("cd" * 32 + ".png"), age_s=0)}


def test_healthy_catalog_exits_0(cli_settings, small_catalog, capsys):
    small_catalog(6)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("healthy") and "FOUND" not in out


def test_finds_and_fixes(cli_settings, repo, small_catalog, capsys):
    items = small_catalog(6)
    planted = _break(repo, cli_settings.data_dir, items)
    code, report = _doctor(capsys)
    found = report["findings"]
    assert code == 1 and not report["healthy"]
    assert found["orphan_files"]["count"] == 1
    assert found["orphan_files"]["examples"] == ["images/ab/" + "ab" * 32 + ".jpg"]
    assert found["missing_images"]["count"] == 1 and found["missing_images"]["examples"] == ["T001"]
    assert found["orphan_vectors"]["examples"] == ["studio_encoder|GONE1"]
    assert any("1 unreferenced file(s) younger" in n for n in report["notes"])

    code, report = _doctor(capsys, "--fix")  # items stay without --drop-missing
    assert code == 1 and report["findings"]["missing_images"]["left"] == 1
    assert "--drop-missing" in report["findings"]["missing_images"]["action"]
    assert not planted["old"].exists() and planted["young"].exists()
    assert repo.vector_count("studio_encoder") == 1

    code, report = _doctor(capsys, "--fix", "--drop-missing", "--grace", "0")
    assert code == 0 and report["healthy"], report
    assert repo.get_item("T001") is None and repo.count_items() == 5
    assert not planted["young"].exists()
    assert _doctor(capsys)[0] == 0


def test_files_named_by_another_catalog_are_kept(cli_settings, repo, capsys):
    other = open_repository(cli_settings.with_(db_name=cli_settings.db_name + "_b"))
    try:
        kept = _file(cli_settings.data_dir / "images" / "shared.jpg")
        other.upsert_items([Item(sku="S1", image_path="images/shared.jpg", hash="h-shared")])
        code, report = _doctor(capsys, "--fix", "--grace", "0")
        assert code == 0 and kept.exists(), report
        assert other.db.name in report["databases_checked"]
    finally:
        other.conn.client.drop_database(other.db.name)


def test_ingest_sweep_removes_only_old_orphans(repo, settings):
    old = _file(settings.data_dir / "images" / "ee" / ("ee" * 32 + ".jpg"))
    young = _file(settings.data_dir / "images" / "ef" / ("ef" * 32 + ".jpg"), age_s=10)
    assert sweep_orphan_files(repo, settings.data_dir, 3600) == 1
    assert not old.exists() and young.exists()


def test_drop_missing_needs_fix(cli_settings, capsys):
    assert main(["doctor", "--drop-missing"]) == 2
    assert "--drop-missing only works with --fix" in capsys.readouterr().err
