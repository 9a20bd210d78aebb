"""AppTest of the Customers page: run the simulation, pick a customer, see their profile,
history and recommendations with the score parts, change the fusion live, evaluate; import a
purchase history (Streamlit 1.67's AppTest drives st.file_uploader): a good upload replaces the
customers and the page reads it, a bad one shows the reason and changes nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.customers.params import PARTS


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
    at = app_test("customers.py").run()
    assert not at.exception
    assert "The catalog is empty" in _texts(at)


def test_before_a_run_the_page_asks_for_one(app_test, shop):
    at = app_test("customers.py").run()
    assert not at.exception
    assert "No customers yet" in _texts(at)
    assert not at.selectbox  # nothing to pick yet


def test_without_vectors_the_page_says_to_embed(app_test, small_catalog):
    small_catalog(8)
    at = _simulate(app_test("customers.py").run(), customers=3)
    assert not at.exception
    assert any("python -m core embed" in e.value for e in at.error)


def test_run_pick_a_customer_and_see_why(app_test, shop, repo):
    at = _simulate(app_test("customers.py").run())
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
    assert list(table["score"]) == sorted(table["score"], reverse=True)  # best first
    cards = {int(c.split(" · ")[0][1:]): c.split(" · ")[1] for c in ranked}  # "#3 · jeans · …"
    assert [cards[i] for i in range(1, 11)] == [repo.get_item(s).category for s in table["sku"]]

    first = history[0]["sku"]  # a purchase goes to Outfits to complete its look
    at = at.button(key=f"simulate_history-{first}-0").click().run()
    assert not at.exception and at.session_state["outfits_handoff"] == first
    assert any(f"**{first}** is ready to style" in i.value for i in at.info)

    other = next(c for c in picker.options if c != "C001")
    picker.select(other.split(" · ")[0]).run()
    assert not at.exception
    assert repo.get_doc("customers", other.split(" · ")[0])["name"] in _texts(at)


def test_weights_reference_and_evaluation_update_live(app_test, shop, repo):
    at = _simulate(app_test("customers.py").run(), customers=8)
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
    assert list(table["model"])[:4] == ["fused score", "random", "most popular",
                                        "looks alike only"]
    assert "without store distance" in list(table["model"])
    assert table["hit rate"].between(0, 1).all()
    assert any("not a real-world A/B result" in str(c.value) for c in at.caption)


# -- importing a purchase history ----------------------------------------------------------
LOG = b"""customer_id,sku,ts
W,T001,2025-03-01T10:00:00
W,T002,2025-03-02
W,T004,2025-03-05
U,T003,2025-02-27
U,T007,2025-03-03
"""
PEOPLE = b"customer_id,name,trendiness\nW,Wanda Weber,0.8\nU,Ulla Lind,0.1\n"


def _upload(at, log: tuple[str, bytes], people: tuple[str, bytes] | None = None):
    at.file_uploader(key="simulate_import_purchases").set_value((*log, "text/csv"))
    if people is not None:
        at.file_uploader(key="simulate_import_customers").set_value((*people, "text/csv"))
    at.run()
    return at.button(key="simulate_import").click().run()


def _state(repo) -> dict:
    return {kind: repo.find_docs(kind, sort="_id") for kind in ("customers", "purchases", "runs")
            } | {"popularity": {it.sku: it.popularity for it in repo.iter_items()}}


def test_import_a_purchase_history_and_see_it(app_test, shop, repo):
    at = app_test("customers.py").run()
    assert not at.exception and "No customers yet" in _texts(at)
    assert at.button(key="simulate_import").disabled  # nothing to import yet

    at = _upload(at, ("history.csv", LOG), ("people.csv", PEOPLE))
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Imported 5 purchases of 5 items by 2 customers from 2025-02-27 to 2025-03-05."]
    assert not at.error
    header = "2 customers · 5 purchases from 2025-02-27 to 2025-03-05 · imported from " \
             "history.csv and people.csv"
    assert header in [str(c.value) for c in at.caption]
    assert repo.get_doc("runs", "simulate")["kind"] == "import"

    picker = at.selectbox(key="simulate_customer")
    assert picker.value == "U" and [o.split(" · ")[0] for o in picker.options] == ["U", "W"]
    picker.select("W").run()
    assert not at.exception
    text = _texts(at)
    assert "Wanda Weber" in text and "lives near **London**" in text  # 2 of 3 bought there
    assert "Trendiness 0.80" in at.get("progress")[0].proto.text
    table = at.dataframe[0].value
    assert len(table) == 10 and not {"T001", "T002", "T004"} & set(table["sku"])

    at.toggle(key="simulate_eval").set_value(True).run()
    assert not at.exception
    assert dict(zip([m.label for m in at.metric], [m.value for m in at.metric], strict=True)
                )["Customers evaluated"] == "2"
    notes = [str(c.value) for c in at.caption if "held out" in str(c.value)]
    assert notes and "imported purchases (history.csv)" in notes[0] and "A/B" not in notes[0]


def test_a_bad_upload_shows_the_reason_and_changes_nothing(app_test, shop, repo):
    at = app_test("customers.py").run()
    at.slider(key="simulate_customers").set_value(5)
    at.button(key="simulate_run").click().run()
    assert not at.exception and repo.count_docs("customers") == 5
    before = _state(repo)

    bad = json.dumps([{"customer_id": "W", "sku": "T001", "ts": "2025-03-01"},
                      {"customer_id": "W", "sku": "NOPE", "ts": "2025-03-02"}]).encode()
    at = _upload(at, ("bad.json", bad))
    assert not at.exception and not at.success
    assert len(at.error) == 1
    message = at.error[0].value
    assert "nothing was changed" in message
    assert "bad.json record 2: unknown sku (not in the catalog) 'NOPE'" in message
    assert _state(repo) == before
    assert any(str(c.value).endswith("seed 42") for c in at.caption)  # still the simulation

    at = _upload(at, ("history.csv", LOG), ("people.csv", b"customer_id\nW\n"))
    assert "history.csv: customer_id not in people.csv in 2 records (line 5 'U', line 6 'U')" \
        in at.error[0].value
    assert _state(repo) == before


# -- the store map, the sample-size caution, the CSV downloads ------------------------------
def _map(at) -> dict:
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "simulate_map" in c.proto.id)


def test_the_store_map_draws_coastlines_and_readable_labels(app_test, shop, repo):
    at = _simulate(app_test("customers.py").run())
    assert not at.exception, at.exception
    traces = _map(at)["data"]
    coast = traces[0]
    assert coast["name"] == "coast and borders" and coast["mode"] == "lines"
    assert len([x for x in coast["x"] if x is not None]) > 5000  # the world's outlines
    (stores,) = [t for t in traces if t.get("name") == "stores"]
    labelled = [t for t in stores["text"] if t]
    assert labelled and set(labelled) <= {s["city"] for s in repo.find_docs("stores")}
    assert len(stores["textposition"]) == len(stores["text"])


def test_few_customers_get_a_sample_size_caution(app_test, shop):
    at = _simulate(app_test("customers.py").run(), customers=6)
    at.toggle(key="simulate_eval").set_value(True).run()
    assert not at.exception, at.exception
    evaluated = next(m.value for m in at.metric if m.label == "Customers evaluated")
    (caution,) = [w.value for w in at.warning if "figures are rough" in w.value]
    assert caution.startswith(f"**Only {evaluated} customers evaluated")


def test_customers_and_purchases_download_as_the_cli_exports_them(app_test, shop, repo):
    at = app_test("customers.py").run()
    assert not at.get("download_button")  # nothing to download before a run
    at = _simulate(at, customers=5)
    assert not at.exception, at.exception
    buttons = {b.proto.label: b.proto
               for b in at.get("download_button")}
    n = repo.count_docs("purchases")
    assert set(buttons) == {f"purchases.csv ({n} rows)", "customers.csv (5 rows)"}
    assert all("customers export" in b.help for b in buttons.values())
