"""`python -m core search / recommend / bench search`: JSON shapes, exit codes, reasons."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from core.cli import main
from core.models.embed import Embedder, embed_catalog
from core.models.studio import new_encoder, save_checkpoint
from tests.fixtures_bad import bad_image_files
from tests.integration.test_search_pipeline import distinct_catalog

RESULT_KEYS = {"id", "score", "category", "attrs", "image"}


@pytest.fixture
def cli_env(settings, cli_settings, repo, small_catalog):
    """A catalog of 12 items embedded with a tiny studio encoder saved as the shipped weights."""
    distinct_catalog(settings, small_catalog, 12)
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    settings.weights_dir / "studio_encoder.pt")
    emb = Embedder("studio_encoder", settings)
    embed_catalog(repo, settings, "studio_encoder", embedder=emb, workers=0)
    return settings


def run_cli(capsys, *argv) -> tuple[int, object, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith(("[", "{")) else out), err


def test_search_json_shape_and_filters(cli_env, capsys, caplog):
    img = str(cli_env.data_dir / "images" / "t004.jpg")
    code, rows, _ = run_cli(capsys, "search", img, "--k", "4", "--json")
    assert code == 0 and len(rows) == 4
    assert all(set(r) == RESULT_KEYS for r in rows)
    assert rows[0]["id"] == "T004" and rows[0]["score"] == pytest.approx(1.0, abs=1e-4)
    code, rows, _ = run_cli(capsys, "search", img, "--filter", "color=red,navy",
                            "--filter", "price=20..25", "--json")
    assert code == 0 and rows
    assert all(r["attrs"]["color"] in {"red", "navy"} for r in rows)
    with caplog.at_level(logging.INFO, logger="core.cli.search_cmd"):
        code, rows, _ = run_cli(capsys, "search", img, "--category-aware", "--k", "2", "--json")
    assert code == 0 and len(rows) <= 2 and "predicted category" in caplog.text


def test_search_bad_inputs_exit_2_with_reason(cli_env, capsys, tmp_path):
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(bad_image_files()["truncated.jpg"])
    code, _, err = run_cli(capsys, "search", str(bad), "--json")
    assert code == 2 and "truncated.jpg: truncated or corrupt" in err
    code, _, err = run_cli(capsys, "search", str(tmp_path / "missing.jpg"))
    assert code == 2 and "missing.jpg: file not found" in err
    img = str(cli_env.data_dir / "images" / "t000.jpg")
    code, _, err = run_cli(capsys, "search", img, "--filter", "$where=1")
    assert code == 2 and "cannot filter by '$where'" in err
    code, _, err = run_cli(capsys, "search", img, "--filter", "price=cheap")
    assert code == 2 and "not a number" in err
    code, _, err = run_cli(capsys, "search", "--sku", "NOPE")
    assert code == 2 and "NOPE" in err


def test_search_exact_item_mode(cli_env, capsys):
    from core.models.studio import load_checkpoint

    img = str(cli_env.data_dir / "images" / "t004.jpg")
    code, _, err = run_cli(capsys, "search", img, "--match", "item")
    assert code == 2 and "no exact-item mode" in err and "train tune" in err
    code, _, err = run_cli(capsys, "search", "--sku", "T004", "--match", "item")
    assert code == 2 and "applies to a photo search" in err
    path = cli_env.weights_dir / "studio_encoder.pt"
    model, _ = load_checkpoint(path)
    model.item_weights = (0.2, 0.1, 0.7)
    save_checkpoint(model, path)
    code, rows, _ = run_cli(capsys, "search", img, "--match", "item", "--k", "3", "--json")
    assert code == 0 and len(rows) == 3
    assert rows[0]["id"] == "T004" and rows[0]["score"] == pytest.approx(1.0, abs=1e-4)


def test_more_like_this_and_top_categories(cli_env, capsys):
    code, rows, _ = run_cli(capsys, "search", "--sku", "T002", "--k", "3", "--json")
    assert code == 0 and len(rows) == 3 and "T002" not in [r["id"] for r in rows]
    imgs = [str(cli_env.data_dir / "images" / f"t00{i}.jpg") for i in range(3)]
    code, counted, _ = run_cli(capsys, "search", *imgs, "--top-categories", "--json")
    assert code == 0 and sum(c["count"] for c in counted["top"]) == 3
    assert len(counted["images"]) == 3


def test_recommend_commands(cli_env, capsys):
    code, groups, _ = run_cli(capsys, "recommend", "colours", "--sku", "T001", "--json")
    assert code == 0 and set(groups) == {"complementary", "analogous", "neutral"}
    code, rows, _ = run_cli(capsys, "recommend", "seasonal", "--season", "summer", "--json")
    assert code == 0 and rows and all(r["attrs"]["season"] == "summer" for r in rows)
    code, rows, _ = run_cli(capsys, "recommend", "attributes", "--want", "color=red", "--json")
    assert code == 0 and rows[0]["attrs"]["color"] == "red" and "reason" in rows[0]
    code, rows, _ = run_cli(capsys, "recommend", "ensemble", "--sku", "T001", "--json")
    assert code == 0 and rows and "T001" not in [r["id"] for r in rows]
    code, _, err = run_cli(capsys, "recommend", "colours")
    assert code == 2 and "needs --sku" in err


def test_python_m_core_search_subprocess(cli_env, env_for):
    img = str(cli_env.data_dir / "images" / "t001.jpg")
    proc = subprocess.run([sys.executable, "-m", "core", "search", img, "--k", "3", "--json"],
                          env=env_for(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [set(r) for r in rows] == [RESULT_KEYS] * 3


def test_bench_search_small_json(cli_env, capsys):
    code, result, _ = run_cli(capsys, "bench", "search", "--sizes", "2000", "--dims", "16",
                              "--ann-n", "4000", "--budget", "0.05", "--e2e-n", "300",
                              "--e2e-queries", "3", "--json")
    assert code == 0
    assert set(result) >= {"bandwidth_gb_s", "rows", "ann", "e2e_ms"}
    row = result["rows"][0]
    assert {"n", "d", "exact_qps", "faiss_flat_qps", "ratio_vs_faiss",
            "bandwidth_fraction"} <= set(row) and row["same_scores_as_faiss"]
    assert {"n", "recall_at_10", "speedup_vs_exact"} <= set(result["ann"])
    assert result["e2e_ms"]["n"] == 300 and result["e2e_ms"]["weights"] == "trained"
    assert result["e2e_ms"]["p95"] >= result["e2e_ms"]["p50"] > 0


def test_index_kind_setting_and_bad_value(cli_env, capsys, monkeypatch):
    img = str(cli_env.data_dir / "images" / "t004.jpg")
    monkeypatch.setenv("INDEX_KIND", "hnsw")
    code, rows, _ = run_cli(capsys, "search", img, "--k", "3", "--json")
    assert code == 0 and rows[0]["id"] == "T004"
    monkeypatch.setenv("INDEX_KIND", "flat")
    code, _, err = run_cli(capsys, "search", img, "--json")
    assert code == 2 and "INDEX_KIND='flat'" in err and "Traceback" not in err


def test_search_follows_a_colour_the_shopper_names(cli_env, capsys, caplog):
    img = str(cli_env.data_dir / "images" / "t004.jpg")
    with caplog.at_level(logging.INFO, logger="core.cli.search_cmd"):
        code, rows, _ = run_cli(capsys, "search", img, "--colour", "light blue", "--json")
    assert code == 0 and rows
    assert "read as:" in caplog.text
    code, _, err = run_cli(capsys, "search", "--sku", "T004", "--colour", "red")
    assert code == 2 and "--colour ranks a photo search" in err
    code, _, err = run_cli(capsys, "search", img, "--colour", "red", "--no-colour-rank")
    assert code == 2 and "--colour ranks a photo search" in err
    with pytest.raises(SystemExit) as exc:
        main(["search", img, "--colour", "teal"])
    assert exc.value.code == 2 and "invalid choice: 'teal'" in capsys.readouterr().err
