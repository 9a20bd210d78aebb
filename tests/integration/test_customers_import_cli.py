"""`customers import` through the real CLI on the embedded MongoDB: a bad file exits 2 naming
the problem and changes nothing; a good one replaces the simulated customers, and `customers
list`, `customers recommend` and `eval customers` then run on the imported purchases."""

from __future__ import annotations

import pytest

from tests.helpers import cli_json as _ok
from tests.helpers import make_shop_catalog
from tests.helpers import run_cli as _cli

LOG = """customer_id,sku,ts,store_id,price
W,T001,2025-03-01T10:00:00,,
W,T002,2025-03-02T10:00:00,,
W,T004,2025-03-05T10:00:00,S02,19.5
U,T003,2025-03-01,,
U,T007,2025-03-03,,
U,T011,2025-03-04,,
"""
MEN = ("T000", "T006", "T012", "T018")


@pytest.fixture
def shop(repo, settings, env_for):
    """24 items in Paris, London and Milan (women's, men's and unisex) with vectors."""
    make_shop_catalog(repo, settings.data_dir, 24)
    for sku in MEN:
        repo.update_item_fields(sku, {"gender": "men"})
    return env_for()


def _state(repo) -> dict:
    return {kind: repo.find_docs(kind, sort="_id") for kind in ("customers", "purchases", "runs")
            } | {"popularity": {it.sku: it.popularity for it in repo.iter_items()}}


@pytest.mark.slow
def test_a_bad_file_exits_2_with_the_reason_and_changes_nothing(shop, repo, tmp_path):
    assert _cli(shop, "customers", "simulate", "--num-customers", "4").returncode == 0
    before = _state(repo)
    bad = tmp_path / "bad.csv"
    bad.write_text(LOG + "U,NOPE,2025-03-09,,\nU,T005,someday,,\n")
    cases = [((str(bad),), ["bad.csv line 8: unknown sku (not in the catalog) 'NOPE'",
                            "bad.csv line 9: bad ts", "nothing was imported"]),
             ((str(tmp_path / "none.csv"),), ["none.csv: cannot read it"]),
             ((str(bad), "--customers", str(tmp_path / "none.csv")), ["none.csv: cannot read"])]
    people = tmp_path / "people.csv"
    people.write_text("customer_id,trendiness\nW,0.2\n")
    good = tmp_path / "log.csv"
    good.write_text(LOG)
    cases.append(((str(good), "--customers", str(people)),
                  ["log.csv: customer_id not in people.csv in 3 records (line 5 'U'"]))
    for args, reasons in cases:
        run = _cli(shop, "customers", "import", *args)
        assert run.returncode == 2, (args, run.stderr)
        assert "Traceback" not in run.stderr and run.stdout == ""
        for reason in reasons:
            assert reason in run.stderr, (args, run.stderr)
        assert _state(repo) == before  # the simulation is still there, untouched
    assert repo.get_doc("runs", "simulate")["kind"] == "simulate"


@pytest.mark.slow
def test_import_then_recommend_and_evaluate_on_the_imported_purchases(shop, repo, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    assert _cli(shop, "customers", "simulate", "--num-customers", "6").returncode == 0
    report = _ok(shop, "customers", "import", str(log))
    assert report["kind"] == "import" and report["sources"] == {"purchases": "log.csv",
                                                                "customers": None}
    assert (report["customers"], report["purchases"], report["items_bought"]) == (2, 6, 6)
    assert (report["first"], report["last"]) == ("2025-03-01", "2025-03-05")
    text = _cli(shop, "customers", "import", str(log))  # again: the same documents
    assert text.returncode == 0 and "imported 6 purchases of 6 items by 2 customers" in text.stdout

    customers = {c["customer_id"]: c for c in _ok(shop, "customers", "list")}
    assert set(customers) == {"U", "W"}  # the simulated C001… were replaced
    assert customers["W"]["gender"] == "women" and customers["W"]["home_city"] == "London"
    assert customers["U"]["gender"] == "unknown" and customers["U"]["purchases"] == 3

    for cid, men_allowed in (("U", True), ("W", False)):
        out = _ok(shop, "customers", "recommend", "--customer", cid, "--k", "24")
        history = {p["sku"] for p in out["history"]}
        recs = {r["sku"] for r in out["recommendations"]}
        assert len(history) == 3 and not history & recs
        assert all(r["because"] in history for r in out["recommendations"])
        assert bool(recs & set(MEN)) is men_allowed  # unknown gender: every item
        assert len(recs) == (21 if men_allowed else 17)

    ev = _ok(shop, "eval", "customers")
    assert ev["data"] == "imported" and ev["source"] == "log.csv"
    assert ev["customers"] == 2 and ev["k"] == 10 and "imported purchases (log.csv)" in ev["note"]
    text = _cli(shop, "eval", "customers")
    assert text.returncode == 0
    assert "leave-last-out on 2 customers of the imported log.csv" in text.stdout
    assert "real-world" not in text.stdout

    # back to simulated
    assert _cli(shop, "customers", "simulate", "--num-customers", "6").returncode == 0
    ev = _ok(shop, "eval", "customers")
    assert ev["data"] == "simulated" and "not a real-world A/B result" in ev["note"]


@pytest.mark.slow
def test_export_then_import_gives_back_the_same_purchases(shop, repo, tmp_path):
    """`customers export` writes what `customers import` reads: a simulated history exported and
    imported again has the same purchase documents and the customers' own facts."""
    run = _cli(shop, "customers", "export", "--out", str(tmp_path / "x"))
    assert run.returncode == 2 and "no purchases to export" in run.stderr
    run = _cli(shop, "customers", "simulate", "--num-customers", "12", "--seed", "3")
    assert run.returncode == 0
    purchases = repo.find_docs("purchases", sort="_id")
    customers = repo.find_docs("customers", sort="_id")
    out = _ok(shop, "customers", "export", "--out", str(tmp_path / "x"))
    assert out["purchases_rows"] == len(purchases) and out["customers_rows"] == len(customers)
    assert not list((tmp_path / "x").glob("*.tmp"))
    _ok(shop, "customers", "import", out["purchases"], "--customers", out["customers"])
    assert repo.find_docs("purchases", sort="_id") == purchases
    facts = ("name", "gender", "lat", "lon", "home_store", "home_city", "trendiness")
    back = repo.find_docs("customers", sort="_id")
    assert [{k: c[k] for k in facts} for c in back] == [{k: c[k] for k in facts}
                                                        for c in customers]
