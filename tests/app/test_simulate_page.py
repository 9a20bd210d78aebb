"""AppTest of the Customers page: run the simulation, pick a customer, see their profile,
history and recommendations with the score parts, change the fusion live, evaluate."""

from __future__ import annotations

import numpy as np
import pytest

from core.simulate.params import PARTS


@pytest.fixture
def shop(app_env, repo):
    """24 pictured items in three stores with category/colour vectors."""
    from tests.helpers import make_shop_catalog

    return make_shop_catalog(repo, app_env.data_dir, 24)


def _texts(at) -> str:
    parts = [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]
    parts += [str(i.value) for i in at.info] + [str(s.value) for s in at.subheader]
    return "\n".join(parts)


def _simulate(at, customers: int = 6):
    at.slider(key="simulate_customers").set_value(customers)
    at.slider(key="simulate_max_purchases").set_value(3)
    at.button(key="simulate_run").click()
    return at.run()


def test_empty_catalog_says_how_to_fill_it(app_test):
    at = app_test("simulate.py").run()
    assert not at.exception
    assert "The catalog is empty" in _texts(at)


def test_before_a_run_the_page_asks_for_one(app_test, shop):
    at = app_test("simulate.py").run()
    assert not at.exception
    assert "No customers yet" in _texts(at)
    assert not at.selectbox  # nothing to pick yet


def test_without_vectors_the_page_says_to_embed(app_test, small_catalog):
    small_catalog(8)
    at = _simulate(app_test("simulate.py").run(), customers=3)
    assert not at.exception
    assert any("python -m core embed" in e.value for e in at.error)


def test_run_pick_a_customer_and_see_why(app_test, shop, repo):
    at = _simulate(app_test("simulate.py").run())
    assert not at.exception, at.exception
    assert repo.count_docs("customers") == 6
    picker = at.selectbox(key="simulate_customer")
    assert len(picker.options) == 6 and picker.value == "C001"
    history = repo.find_docs("purchases", {"customer_id": "C001"}, sort="ts")
    text = _texts(at)
    doc = repo.get_doc("customers", "C001")
    assert doc["name"] in text and "Purchase history" in text
    gauge = at.get("progress")[0].proto  # the trendiness gauge
    assert abs(gauge.value - 100 * doc["trendiness"]) <= 1 and "Trendiness" in gauge.text
    for p in history:  # every purchase is captioned with its date
        assert p["ts"][:10] in text
    table = at.dataframe[0].value
    assert len(table) == 10 and list(table["#"]) == list(range(1, 11))
    bought = {p["sku"] for p in history}
    assert not bought & set(table["sku"])  # never what they already own
    for _, row in table.iterrows():  # the score is the product of its parts (weights 1)
        assert row["score"] == pytest.approx(np.prod([row[p] for p in PARTS]), rel=1e-6)
        assert all(0 <= row[p] <= 1 for p in PARTS)
    ranked = [str(c.value) for c in at.caption if str(c.value).startswith("#")]
    assert sorted(int(c.split(" · ")[0][1:]) for c in ranked) == list(range(1, 11))
    scores = {int(c.split(" · ")[0][1:]): float(c.split(" · ")[1].replace("<", ""))
              for c in ranked}  # "<0.001" for the tiniest
    assert [scores[i] for i in range(1, 11)] == sorted(scores.values(), reverse=True)

    first = history[0]["sku"]  # a purchase goes to Outfits to complete its look
    at = at.button(key=f"simulate_history-{first}-0").click().run()
    assert not at.exception and at.session_state["outfits_handoff"] == first
    assert any(f"**{first}** is ready to style" in i.value for i in at.info)

    other = next(c for c in picker.options if c != "C001")
    picker.select(other.split(" · ")[0]).run()
    assert not at.exception
    assert repo.get_doc("customers", other.split(" · ")[0])["name"] in _texts(at)


def test_weights_reference_and_evaluation_update_live(app_test, shop, repo):
    at = _simulate(app_test("simulate.py").run(), customers=8)
    customer = next(d["_id"] for d in repo.find_docs("customers", sort="_id")
                    if repo.count_docs("purchases", {"customer_id": d["_id"]}) >= 2)
    at.selectbox(key="simulate_customer").select(customer).run()
    at.slider(key="simulate_w_proximity").set_value(0.0)
    at.slider(key="simulate_w_visual").set_value(2.0).run()
    assert not at.exception
    for _, row in at.dataframe[0].value.iterrows():  # proximity dropped, looks count twice
        assert row["score"] == pytest.approx(
            row["visual"] ** 2 * row["popularity"] * row["category"], rel=1e-6)

    first = repo.find_docs("purchases", {"customer_id": customer}, sort="ts")[0]["sku"]
    at.radio(key="simulate_reference").set_value(first).run()
    assert not at.exception
    assert at.dataframe[0].value["because of"].nunique() == 1  # all from that one purchase

    at.toggle(key="simulate_eval").set_value(True).run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Hit rate@10", "NDCG@10", "Customers evaluated"]
    table = at.dataframe[1].value
    assert list(table["model"])[:4] == ["fused", "random", "popularity", "visual"]
    assert table["hit rate"].between(0, 1).all()
    assert any("not a real-world A/B result" in str(c.value) for c in at.caption)
