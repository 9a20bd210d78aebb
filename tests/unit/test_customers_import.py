"""Importing a real purchase history: parsing CSV / JSON / JSON lines, all-or-nothing
validation with specific messages, what is derived (home, gender, style), idempotent
re-import, and what the page and the evaluation say about imported data."""

from __future__ import annotations

import json

import pytest

from core.customers.catalog import CatalogView
from core.customers.customers import Customer
from core.customers.evaluate import NOTE, data_note
from core.customers.figures import run_caption
from core.customers.importer import ImportProblem, Source, import_history, parse_ts
from core.customers.params import SimulationConfig
from core.customers.pipeline import RUN_ID, run_simulation
from core.demo.stores import STORES
from core.storage import Item, Store
from core.taxonomy import UNKNOWN_GENDER, wearable_genders

PARIS, LONDON, MILAN = (Store(**s) for s in STORES[:3])
# sku: category, colour, gender, store
SPEC = [("tee", "navy", "women", "S01"), ("tee", "red", "women", "S01"),
        ("jeans", "navy", "women", "S02"), ("skirt", "white", "women", "S02"),
        ("hoodie", "navy", "men", "S01"), ("jeans", "navy", "men", "S02"),
        ("sneakers", "white", "unisex", "S01"), ("sneakers", "red", "unisex", "S02"),
        ("tee", "navy", "unisex", "S03"), ("dress", "red", "women", "S03"),
        ("jacket", "navy", "men", "S03"), ("bag", "", "unisex", None)]
LOG = """customer_id,sku,ts,store_id,price
A,I02,2025-01-05,S02,
A,I00,2025-01-03T09:30:00,,
A,I03,2025-01-07 12:00,S02,30
A,I06,2025-01-04T10:00:00+01:00,S02,
B,I06,2025-02-01,,
B,I07,2025-02-02,,
"""
ROWS = [dict(zip(("customer_id", "sku", "ts", "store_id", "price"), line.split(","),
                 strict=True)) for line in LOG.splitlines()[1:]]


@pytest.fixture
def shop(repo):
    """Twelve items (women's, men's, unisex) in Paris, London and Milan."""
    items = [Item(sku=f"I{i:02d}", image_path=f"images/{i}.jpg", hash=f"h{i}", category=cat,
                  attrs={"color": col} if col else {}, gender=gender, store_id=store,
                  price=10.0 + i) for i, (cat, col, gender, store) in enumerate(SPEC)]
    repo.upsert_items(items)
    repo.put_docs("stores", [s.to_doc() for s in (PARIS, LONDON, MILAN)])
    return repo


def _import(repo, log: str | bytes = LOG, name: str = "purchases.csv",
            customers: str | None = None, customers_name: str = "customers.csv") -> dict:
    people = Source(customers_name, customers) if customers is not None else None
    return import_history(repo, Source(name, log), people)


def _state(repo) -> dict:
    """Everything an import writes."""
    return {kind: repo.find_docs(kind, sort="_id") for kind in ("customers", "purchases", "runs")
            } | {"popularity": {it.sku: it.popularity for it in repo.iter_items()}}


def _customer(repo, cid: str) -> Customer:
    return Customer.from_doc(repo.get_doc("customers", cid))


# -- timestamps ---------------------------------------------------------------------------
def test_timestamps_are_normalised_to_iso_seconds():
    assert parse_ts("2025-01-06") == "2025-01-06T00:00:00"
    assert parse_ts(" 2025-01-06T10:15:00 ") == "2025-01-06T10:15:00"
    assert parse_ts("2025-01-06 10:15") == "2025-01-06T10:15:00"
    assert parse_ts("2025-01-06T10:15:07.123456") == "2025-01-06T10:15:07"
    assert parse_ts("2025-01-06T10:15:00+02:00") == "2025-01-06T08:15:00"  # to UTC
    assert parse_ts("2025-01-06T00:30:00Z") == "2025-01-06T00:30:00"
    for bad in ("yesterday", "06/01/2025", "2025-13-01", "", "1736150400"):
        assert parse_ts(bad) is None


# -- a successful import ------------------------------------------------------------------
def test_import_stores_purchases_and_derives_customers(shop):
    report = _import(shop)
    purchases = shop.find_docs("purchases", sort="ts")
    assert [(p["_id"], p["sku"], p["ts"]) for p in purchases] == [
        ("A-01", "I00", "2025-01-03T09:30:00"), ("A-02", "I06", "2025-01-04T09:00:00"),
        ("A-03", "I02", "2025-01-05T00:00:00"), ("A-04", "I03", "2025-01-07T12:00:00"),
        ("B-01", "I06", "2025-02-01T00:00:00"), ("B-02", "I07", "2025-02-02T00:00:00")]
    by_id = {p["_id"]: p for p in purchases}
    assert (by_id["A-01"]["store_id"], by_id["A-01"]["price"]) == ("S01", 10.0)  # the item's
    assert (by_id["A-04"]["store_id"], by_id["A-04"]["price"]) == ("S02", 30.0)  # as given

    a = _customer(shop, "A")  # bought 3 of 4 in London, women's items and one unisex
    assert (a.home_store, a.home_city, a.lat, a.lon) == ("S02", "London", LONDON.lat, LONDON.lon)
    assert a.gender == "women" and a.trendiness == 0.5 and a.name == "A"
    assert a.categories == ["tee", "sneakers", "jeans"]  # all once: in the order bought
    assert a.colors == ["navy", "white"]  # twice each
    b = _customer(shop, "B")  # unisex only; one purchase in Paris, one in London
    assert b.gender == UNKNOWN_GENDER
    assert b.home_store == "S01"  # a tie: the store bought from first
    assert b.categories == ["sneakers"] and b.colors == ["white", "red"]

    popularity = {it.sku: it.popularity for it in shop.iter_items()}
    assert popularity == {f"I{i:02d}": {0: 1, 2: 1, 3: 1, 6: 2, 7: 1}.get(i, 0)
                          for i in range(len(SPEC))}
    run = shop.get_doc("runs", RUN_ID)
    assert run["kind"] == "import" and run["sources"] == {"purchases": "purchases.csv",
                                                          "customers": None}
    assert run["summary"] == {k: v for k, v in report.items() if k not in ("kind", "sources")}
    assert report["customers"] == 2 and report["purchases"] == 6 and report["items_bought"] == 5
    assert (report["first"], report["last"]) == ("2025-01-03", "2025-02-02")
    assert report["cities"] == {"London": 1, "Paris": 1} and report["popularity_max"] == 2.0
    assert report["median_distance_km"] == pytest.approx(172, abs=2)  # half at 0, half 344 km


def test_json_array_and_json_lines_import_like_the_csv(shop):
    _import(shop)
    expected = _state(shop)
    records = [{k: v for k, v in r.items() if v} for r in ROWS]
    records[2]["price"] = 30  # a JSON number
    for name, text in (("log.json", json.dumps(records)),
                       ("log.jsonl", "\n".join(json.dumps(r) for r in records) + "\n\n")):
        _import(shop, text.encode(), name=name)
        got = _state(shop)
        assert got["runs"][0]["sources"]["purchases"] == name
        assert {k: v for k, v in got.items() if k != "runs"} == {
            k: v for k, v in expected.items() if k != "runs"}


def test_a_customers_file_gives_what_it_knows(shop):
    people = """customer_id,name,gender,lat,lon,home_store,trendiness
A,Ada Lovelace,,,,,0.9
B,,Men,45.47,9.2,,
C,Carl,,,,S03,
"""
    report = _import(shop, customers=people)
    assert report["customers"] == 3 and report["sources"]["customers"] == "customers.csv"
    a = _customer(shop, "A")
    assert (a.name, a.trendiness, a.gender, a.home_store) == ("Ada Lovelace", 0.9, "women", "S02")
    b = _customer(shop, "B")  # a location: the nearest store is home, the location kept
    assert (b.gender, b.home_store, b.home_city, b.lat, b.lon) == ("men", "S03", "Milan",
                                                                   45.47, 9.2)
    c = _customer(shop, "C")  # bought nothing: in the file, so imported
    assert (c.home_store, c.lat, c.lon) == ("S03", MILAN.lat, MILAN.lon)
    assert c.gender == UNKNOWN_GENDER and c.categories == [] and c.colors == []
    assert shop.count_docs("purchases", {"customer_id": "C"}) == 0


def test_reimport_leaves_exactly_the_same_documents_and_replaces_a_simulation(shop):
    run_simulation(shop, SimulationConfig(num_customers=5))
    assert shop.get_doc("runs", RUN_ID)["kind"] == "simulate"
    _import(shop)
    first = _state(shop)
    assert [c["_id"] for c in first["customers"]] == ["A", "B"]  # C001… are gone
    assert {p["customer_id"] for p in first["purchases"]} == {"A", "B"}
    _import(shop)
    assert _state(shop) == first


def test_an_unknown_gender_shops_every_item(shop):
    assert wearable_genders(UNKNOWN_GENDER) is None and wearable_genders("") is None
    catalog = CatalogView.build(list(shop.iter_items()), [PARIS, LONDON, MILAN])
    assert catalog.wearable_by(UNKNOWN_GENDER).all()
    women = catalog.wearable_by("women")
    assert not women.all() and women[catalog.row["I06"]]  # men's items are out, unisex in


# -- validation: all or nothing ------------------------------------------------------------
HEAD = "customer_id,sku,ts,store_id,price\n"
BAD = {
    "empty": (b"", "purchases.csv: the file is empty"),
    "blank": (b"  \n\n", "purchases.csv: the file is empty"),
    "header only": (HEAD, "purchases.csv: no records (only a header)"),
    "missing column": ("customer_id,sku\nA,I00\n", "purchases.csv: missing column 'ts'"),
    "bad date": (HEAD + "A,I00,2025-01-03,,\nA,I01,yesterday,,\n",
                 "purchases.csv line 3: bad ts (use an ISO date like 2025-01-06 or "
                 "2025-01-06T10:15:00) 'yesterday'"),
    "unknown skus": (HEAD + "".join(f"A,X{i},2025-01-0{i + 1},,\n" for i in range(7)),
                     "purchases.csv: unknown sku (not in the catalog) in 7 records (line 2 "
                     "'X0', line 3 'X1', line 4 'X2', line 5 'X3', line 6 'X4' and 2 more)"),
    "unknown store": (HEAD + "A,I00,2025-01-03,S99,\n",
                      "purchases.csv line 2: unknown store_id 'S99'"),
    "negative price": (HEAD + "A,I00,2025-01-03,,-5\n",
                       "purchases.csv line 2: negative price '-5'"),
    "price not a number": (HEAD + "A,I00,2025-01-03,,cheap\n",
                           "purchases.csv line 2: price is not a number 'cheap'"),
    "no customer": (HEAD + "A,I00,2025-01-03,,\n ,I01,2025-01-04,,\n",
                    "purchases.csv line 3: no customer_id"),
    "duplicate purchase_id": ("purchase_id,customer_id,sku,ts\nP1,A,I00,2025-01-03\n"
                              "P2,A,I01,2025-01-04\nP1,B,I02,2025-01-05\n",
                              "purchases.csv line 4: duplicate purchase_id 'P1'"),
    "too many values": (HEAD + "A,I00,2025-01-03,,,extra\n",
                        "purchases.csv line 2: 6 values for 5 columns"),
    "malformed csv": (HEAD + 'A,I00,"2025-01-03,,\n',
                      "purchases.csv line 2: malformed CSV"),
    "not utf-8": (b"customer_id,sku,ts\nA,\xff\xfe,2025-01-03\n",
                  "purchases.csv: not UTF-8 text (byte 21)"),
    "several kinds": (HEAD + "A,I00,soon,,\nA,NOPE,2025-01-03,,-1\n",
                      "purchases.csv line 2: bad ts (use an ISO date like 2025-01-06 or "
                      "2025-01-06T10:15:00) 'soon'; purchases.csv line 3: unknown sku (not in "
                      "the catalog) 'NOPE'; purchases.csv line 3: negative price '-1'; "
                      "nothing was imported"),
}
BAD_JSON = {
    "malformed json array": ("log.json", '[{"customer_id": "A", "sku": "I00",\n "ts": }]',
                             "log.json line 2 column 8: malformed JSON (Expecting value)"),
    "malformed json lines": ("log.jsonl", '{"customer_id": "A", "sku": "I00", "ts": "2025-01-03"}'
                             '\n{"customer_id": "B",',
                             "log.jsonl line 2 column 21: malformed JSON"),
    "not objects": ("log.json", '[["A", "I00", "2025-01-03"]]',
                    "log.json record 1: expected an object"),
    "not an array": ("log.json", '"A,I00"', "log.json line 1: expected an object"),
    "json unknown sku": ("log.json", json.dumps([{"customer_id": "A", "sku": "I00", "ts": "2025"
                                                  "-01-03"}, {"customer_id": 7, "sku": "Q",
                                                              "ts": "2025-01-04"}]),
                         "log.json record 2: unknown sku (not in the catalog) 'Q'"),
    "json id not text": ("log.jsonl", '{"customer_id": ["A"], "sku": "I00", "ts": "2025-01-03"}',
                         "log.jsonl line 1: customer_id is not text ['A']"),
}
PEOPLE_HEAD = "customer_id,name,gender,lat,lon,home_store,trendiness\n"
BAD_PEOPLE = {
    "purchase by a customer not in the file": (
        PEOPLE_HEAD + "A,,,,,,\n", "purchases.csv: customer_id not in customers.csv in 2 "
                                   "records (line 6 'B', line 7 'B')"),
    "trendiness out of range": (PEOPLE_HEAD + "A,,,,,,1.5\nB,,,,,,\n",
                                "customers.csv line 2: trendiness outside 0..1 '1.5'"),
    "lat without lon": (PEOPLE_HEAD + "A,,,48.1,,,\nB,,,,,,\n",
                        "customers.csv line 2: lat without lon or lon without lat"),
    "lat out of range": (PEOPLE_HEAD + "A,,,98,2,,\nB,,,,,,\n",
                         "customers.csv line 2: lat outside -90..90 '98'"),
    "unknown home store": (PEOPLE_HEAD + "A,,,,,S42,\nB,,,,,,\n",
                           "customers.csv line 2: unknown home_store 'S42'"),
    "bad gender": (PEOPLE_HEAD + "A,,female,,,,\nB,,,,,,\n",
                   "customers.csv line 2: gender not one of women, men, unknown 'female'"),
    "duplicate customer": (PEOPLE_HEAD + "A,,,,,,\nB,,,,,,\nA,,,,,,\n",
                           "customers.csv line 4: duplicate customer_id 'A'"),
    "customers file without id column": ("name\nAda\n",
                                         "customers.csv: missing column 'customer_id'"),
}


@pytest.fixture
def imported(shop):
    """A first, valid import: what a failed one must leave untouched."""
    _import(shop)
    return _state(shop)


def _refused(repo, before: dict, expected: str, **kwargs) -> None:
    with pytest.raises(ImportProblem) as err:
        _import(repo, **kwargs)
    assert expected in str(err.value)
    assert _state(repo) == before  # nothing written


@pytest.mark.parametrize("case", list(BAD))
def test_bad_purchase_logs_are_refused_with_the_reason(shop, imported, case):
    log, expected = BAD[case]
    _refused(shop, imported, expected, log=log)


@pytest.mark.parametrize("case", list(BAD_JSON))
def test_bad_json_logs_are_refused_with_the_reason(shop, imported, case):
    name, log, expected = BAD_JSON[case]
    _refused(shop, imported, expected, log=log, name=name)


@pytest.mark.parametrize("case", list(BAD_PEOPLE))
def test_bad_customers_files_are_refused_with_the_reason(shop, imported, case):
    people, expected = BAD_PEOPLE[case]
    _refused(shop, imported, expected, customers=people)


def test_an_empty_catalog_is_refused(repo):
    with pytest.raises(ImportProblem, match="the catalog is empty"):
        _import(repo)
    assert repo.count_docs("customers") == repo.count_docs("runs") == 0


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ImportProblem, match="nope.csv: cannot read it"):
        Source.from_path(tmp_path / "nope.csv")
    (tmp_path / "ok.csv").write_text(LOG)
    assert Source.from_path(tmp_path / "ok.csv").data == LOG.encode()


# -- what the page and the evaluation say --------------------------------------------------
def test_header_and_evaluation_note_follow_the_kind_of_data(shop):
    assert run_caption(None) is None
    run_simulation(shop, SimulationConfig(num_customers=5, seed=3))
    simulated = shop.get_doc("runs", RUN_ID)
    assert run_caption(simulated).endswith(" trend-seekers · seed 3")
    assert data_note(simulated) == {"data": "simulated", "source": None, "note": NOTE}
    _import(shop, customers=PEOPLE_HEAD + "A,,,,,,\nB,,,,,,\n")
    imported = shop.get_doc("runs", RUN_ID)
    assert run_caption(imported) == ("2 customers · 6 purchases from 2025-01-03 to 2025-02-02 "
                                     "· imported from purchases.csv and customers.csv")
    note = data_note(imported)
    assert note["data"] == "imported" and note["source"] == "purchases.csv"
    assert "imported purchases (purchases.csv)" in note["note"] and "A/B" not in note["note"]


def test_recommender_features_follow_a_new_import(shop, settings):
    """The cached catalog features (popularity included) are rebuilt after another import."""
    import numpy as np

    from core.customers.service import Recommender

    skus = [f"I{i:02d}" for i in range(len(SPEC))]
    shop.put_vectors("studio_encoder", skus, np.eye(len(SPEC), 16, dtype=np.float32))

    class NoIndex:  # no exact index matrix: the vectors are read from the repository
        def get(self, repo, model_id):
            return object()

    rec = Recommender(settings, indexes=NoIndex())
    _import(shop)
    feats = rec.features(shop)
    assert feats.catalog.popularity[feats.catalog.row["I06"]] == 2
    _import(shop, LOG + "A,I06,2025-02-03,,\n")  # the same sizes, one more I06
    feats = rec.features(shop)
    assert feats.catalog.popularity[feats.catalog.row["I06"]] == 3
    recs = rec.recommend(shop, "B", k=3)
    assert len(recs) == 3 and not {"I06", "I07"} & {r.item.sku for r in recs}
