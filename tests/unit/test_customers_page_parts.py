"""What the Customers page shows, without Streamlit: the offline store map (outlines, label
placement), the sample-size caution, and the CSV downloads (the same bytes as the CLI export)."""

from __future__ import annotations

from collections import Counter

import pytest

from core.customers.figures import MIN_CUSTOMERS, sample_caution
from core.customers.storemap import (
    _candidates,
    _overlaps,
    _to_px,
    map_figure,
    outlines,
    place_labels,
    view,
)
from core.storage.records import Store

CITIES = [("S01", "Paris", 48.8566, 2.3522), ("S02", "London", 51.5074, -0.1278),
          ("S03", "Milan", 45.4642, 9.19), ("S04", "New York", 40.7128, -74.006),
          ("S05", "Tokyo", 35.6762, 139.6503), ("S06", "Berlin", 52.52, 13.405),
          ("S07", "Madrid", 40.4168, -3.7038), ("S08", "Amsterdam", 52.3676, 4.9041),
          ("S09", "Stockholm", 59.3293, 18.0686), ("S10", "Seoul", 37.5665, 126.978),
          ("S11", "Los Angeles", 34.0522, -118.2437), ("S12", "Sydney", -33.8688, 151.2093)]
STORES = [Store(sid, f"Studio {city}", city, lat, lon) for sid, city, lat, lon in CITIES]


def test_outlines_are_the_worlds_coasts_and_borders():
    lons, lats = outlines()
    xs = [x for x in lons if x is not None]
    ys = [y for y in lats if y is not None]
    assert len(xs) == len(ys) > 5000 and lons.count(None) > 500  # many separate arcs
    assert min(xs) >= -180 and max(xs) <= 180 and min(ys) > -90 and max(ys) < 84
    steps = [abs(b - a) for a, b in zip(lons, lons[1:], strict=False)
             if a is not None and b is not None]
    assert max(steps) < 180  # no arc drawn across the map at the antimeridian
    # some outline passes near Paris (Europe is drawn)
    assert any(abs(x - 2.35) < 3 and abs(y - 48.9) < 3 for x, y in zip(xs, ys, strict=True))


def test_labels_never_overprint_each_other_or_a_store():
    xr, yr = view(STORES, [])
    labels = place_labels(STORES, ["S08"], Counter({"S02": 5, "S01": 3}), xr, yr)
    points = [_to_px(s.lon, s.lat, xr, yr) for s in STORES]
    boxes = {}
    for s, (text, position), (x, y) in zip(STORES, labels, points, strict=True):
        if text:
            boxes[s.store_id] = dict(_candidates(x, y, text))[position]
    markers = [(x - 6, y - 6, x + 6, y + 6) for x, y in points]
    placed = list(boxes.values())
    for i, a in enumerate(placed):
        assert not any(_overlaps(a, b) for b in placed[i + 1:])
    for sid, box in boxes.items():  # only the chosen customer's store may cover a marker
        assert sid == "S08" or not any(_overlaps(box, m) for m in markers)
    named = {text for text, _ in labels if text}
    assert {"Amsterdam", "London", "Tokyo", "Sydney", "New York", "Los Angeles"} <= named
    assert len(named) < len(STORES)  # crowded Europe: some are named on hover only


def test_map_figure_has_outlines_stores_and_the_chosen_home():
    from core.customers.customers import Customer

    who = Customer("C001", "Ada Lind", "women", 0.7, "Paris", "S01", 48.9, 2.4, ["tee"], ["red"])
    fig = map_figure(STORES, [who], who, ["S01", "S02"])
    names = [t.name for t in fig.data]
    assert names[0] == "coast and borders" and "stores" in names and "Ada Lind's home" in names
    dotted = [t for t in fig.data if t.line and t.line.dash == "dot"]
    assert len(dotted) == 2  # a line to each store she bought from


@pytest.mark.parametrize(("n", "rough"), [(1, True), (10, True), (MIN_CUSTOMERS - 1, True),
                                          (MIN_CUSTOMERS, False), (300, False)])
def test_sample_caution_below_thirty_customers(n, rough):
    text = sample_caution(n)
    assert (text is not None) == rough
    if rough:
        assert f"Only {n} customer" in text and "rough" in text
        assert f"{1 / n:.2f}" in text


def test_download_tables_are_the_cli_export(repo, settings, tmp_path):
    from core.customers.importer import export_history, export_tables
    from core.customers.params import SimulationConfig
    from core.customers.pipeline import run_simulation
    from tests.helpers import make_shop_catalog

    make_shop_catalog(repo, settings.data_dir, 24)
    run_simulation(repo, SimulationConfig(num_customers=7, seed=5))
    tables = export_tables(repo)
    files = export_history(repo, tmp_path)
    for name in ("purchases", "customers"):
        text, rows = tables[name]
        assert (tmp_path / f"{name}.csv").read_bytes() == text.encode("utf-8")
        assert rows == files[f"{name}_rows"] == len(text.strip().splitlines()) - 1
    assert tables["customers"][1] == 7
    assert tables["purchases"][0].startswith("purchase_id,customer_id,sku,ts,store_id,price")


def test_the_customer_picker_and_recommend_from_name_what_they_show():
    from types import SimpleNamespace

    from core.customers.figures import customer_label, reference_label

    who = SimpleNamespace(customer_id="C007", name="Ana Ruiz", home_city="Lyon")
    assert customer_label(who) == "C007 · Ana Ruiz (Lyon)"
    dress = SimpleNamespace(attrs={"color": "red"}, category="dress")
    assert reference_label("D1", dress) == "red dress (D1)"
    assert reference_label(None) == "everything they bought"
    assert reference_label("X9") == "(X9)"  # an item no longer in the catalog
