"""AppTest of the Customers page's *Import a purchase history* (Streamlit 1.67's AppTest drives
st.file_uploader): a good upload replaces the customers and the page reads it, a bad one shows
the reason and changes nothing."""

from __future__ import annotations

import json

import pytest

LOG = b"""customer_id,sku,ts
W,T001,2025-03-01T10:00:00
W,T002,2025-03-02
W,T004,2025-03-05
U,T003,2025-02-27
U,T007,2025-03-03
"""
PEOPLE = b"customer_id,name,trendiness\nW,Wanda Weber,0.8\nU,Ulla Lind,0.1\n"


@pytest.fixture
def shop(app_env, repo):
    """24 pictured items in three stores with category/colour vectors."""
    from tests.helpers import make_shop_catalog

    return make_shop_catalog(repo, app_env.data_dir, 24)


def _texts(at) -> str:
    parts = [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]
    parts += [str(i.value) for i in at.info] + [str(s.value) for s in at.subheader]
    return "\n".join(parts)


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
    at = app_test("simulate.py").run()
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
    at = app_test("simulate.py").run()
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
