"""`customers simulate | list | recommend` and `eval customers` through the real CLI, on a
rendered demo catalog ingested into the embedded MongoDB (vectors from its attributes)."""

from __future__ import annotations

import numpy as np
import pytest

from core.customers.params import PARTS
from tests.helpers import attribute_vectors
from tests.helpers import cli_json as _ok
from tests.helpers import run_cli as _cli


@pytest.fixture
def shop(repo, env_for, tmp_path):
    """A 150-item demo catalog (twelve stores), ingested, with attribute vectors."""
    env = env_for()
    demo = tmp_path / "demo"
    run = _cli(env, "demo", "build", "--items", "150", "--seed", "3", "--size", "40",
               "--workers", "1", "--out", str(demo))
    assert run.returncode == 0, run.stderr
    run = _cli(env, "ingest", str(demo))
    assert run.returncode == 0, run.stderr
    items = list(repo.iter_items())
    repo.put_vectors("studio_encoder", [it.sku for it in items], attribute_vectors(items))
    return env


def _docs(repo, kind: str) -> list[dict]:
    return repo.find_docs(kind, sort="_id")


@pytest.mark.slow
def test_simulate_rerun_recommend_and_evaluate(shop, repo):
    env = shop
    report = _ok(env, "customers", "simulate", "--num-customers", "40")
    assert report["customers"] == 40 and report["params"]["seed"] == 42
    assert repo.count_docs("customers") == 40
    assert repo.count_docs("purchases") == report["purchases"] >= 40
    popularity = {it.sku: it.popularity for it in repo.iter_items()}
    assert max(popularity.values()) == report["popularity_max"] > 0
    customers, purchases = _docs(repo, "customers"), _docs(repo, "purchases")

    again = _ok(env, "customers", "simulate", "--num-customers", "40")
    assert again == report  # same seed: same run...
    assert _docs(repo, "customers") == customers and _docs(repo, "purchases") == purchases
    assert {it.sku: it.popularity for it in repo.iter_items()} == popularity  # ...no duplicates
    assert _ok(env, "customers", "simulate", "--num-customers", "10")["customers"] == 10
    assert repo.count_docs("customers") == 10  # a smaller run replaces, leaves nothing stale
    assert {d["customer_id"] for d in _docs(repo, "purchases")} <= {f"C{i:03d}" for i in
                                                                   range(1, 11)}
    _ok(env, "customers", "simulate", "--num-customers", "40", "--top-k", "8")
    assert len(_ok(env, "customers", "list")) == 40

    out = _ok(env, "customers", "recommend", "--customer", "C002")
    history = {p["sku"] for p in out["history"]}
    recs = out["recommendations"]
    assert len(recs) == 8  # the run's --top-k
    assert not history & {r["sku"] for r in recs}
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    for r in recs:
        assert set(r["parts"]) == set(PARTS) and r["because"] in history
        assert r["score"] == pytest.approx(np.prod(list(r["parts"].values())), rel=1e-3)

    ref = next(iter(history))
    one = _ok(env, "customers", "recommend", "--customer", "C002", "--item", ref, "--k", "3",
              "--weight", "proximity=0")
    assert len(one["recommendations"]) == 3 and one["weights"]["proximity"] == 0
    assert {r["because"] for r in one["recommendations"]} == {ref}

    ev = _ok(env, "eval", "customers")
    assert {"model", "hit_rate", "ndcg", "k", "customers", "baselines"} <= set(ev)
    assert ev["model"] == "fused" and ev["k"] == 8 and ev["customers"] > 10
    assert {"random", "popularity", "visual", "no_proximity"} <= set(ev["baselines"])
    assert ev["hit_rate"] > ev["baselines"]["random"]["hit_rate"]
    assert ev["ndcg"] > ev["baselines"]["random"]["ndcg"]
    text = _cli(env, "eval", "customers", "--k", "5")
    assert text.returncode == 0 and "hit@5" in text.stdout and "real-world" in text.stdout


def _refused(env, cases) -> None:
    for args, reason in cases:
        run = _cli(env, *args)
        assert run.returncode == 2, (args, run.stderr)
        assert reason in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_bad_input_exits_2_with_a_reason(repo, env_for, small_catalog):
    env = env_for()
    _refused(env, [(("customers", "simulate"), "catalog is empty"),
                   (("customers", "recommend", "--customer", "C001"), "run the simulation first"),
                   (("customers", "list"), "no simulated customers"),
                   (("eval", "customers"), "no simulated customers")])
    items = small_catalog(12)  # no stores, no vectors: homes go around the demo's stores
    assert _cli(env, "customers", "simulate", "--num-customers", "4").returncode == 0
    _refused(env, [(("customers", "recommend", "--customer", "C001"), "embed"),
                   (("eval", "customers"), "embed")])
    repo.put_vectors("studio_encoder", [it.sku for it in items], np.eye(12, 16, dtype=np.float32))
    recommend = ("customers", "recommend", "--customer", "C001")
    _refused(env, [
        (("customers", "simulate", "--num-customers", "-3"), "--num-customers must be at least 1"),
        (("customers", "simulate", "--max-purchases-per-customer", "0"),
         "--max-purchases-per-customer"),
        (("customers", "simulate", "--p-threshold", "1.5"), "--p-threshold must be in [0, 1)"),
        (("customers", "simulate", "--start", "soon"), "--start must be a date"),
        (("customers", "recommend", "--customer", "NOPE"), "no customer 'NOPE'"),
        ((*recommend, "--item", "NOPE"), "--item: no item 'NOPE'"),
        ((*recommend, "--k", "0"), "--k must be at least 1"),
        ((*recommend, "--weight", "looks=1"), "unknown score part"),
        ((*recommend, "--weight", "visual=abc"), "must be a number"),
        (("eval", "customers", "--weight", "visual=-1"), "--weight visual must be 0 or more")])
    assert _cli(env, *recommend).returncode == 0  # the same customer is fine once embedded
