"""The Customers page in a real browser, on the demo catalog embedded with the shipped encoder:
run the simulation, pick a customer, see their history, the map, the recommendations with their
score parts, and the evaluation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


RANKED = re.compile(r"^#\d+ · ")  # "#3 · jeans · orange"


def _ranked(page) -> list[str]:
    captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    return [c.strip() for c in captions if RANKED.match(c.strip())]


def test_simulate_and_recommend_in_browser(app_url, demo_catalog, page):
    _, repo, _ = demo_catalog
    page.goto(f"{app_url}/customers")
    page.get_by_text("No customers yet").wait_for()
    page.get_by_role("button", name="Run simulation").click()
    page.get_by_role("heading", name="Purchase history").wait_for()
    wait_for_app(page)
    assert repo.count_docs("customers") == 15

    two = next(d for d in repo.find_docs("customers", sort="_id")
               if repo.count_docs("purchases", {"customer_id": d["_id"]}) >= 2)
    page.get_by_test_id("stSelectbox").filter(has_text="Customer").click()
    page.get_by_role("option", name=re.compile(f"^{two['_id']} ")).click()
    page.get_by_role("heading", name=two["name"]).wait_for()
    page.get_by_text(f"Recommended for {two['name'].split()[0]}").wait_for()
    wait_for_app(page)

    dates = [d["ts"][:10] for d in repo.find_docs("purchases", {"customer_id": two["_id"]})]
    history = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    assert all(any(c.startswith(date) for c in history) for date in dates)
    ranked = _ranked(page)
    assert sorted(int(c.split(" · ")[0][1:]) for c in ranked) == list(range(1, 11))
    assert page.locator('[data-testid="stImage"] img').count() >= 10 + len(dates)
    assert page.locator('[data-testid="stDataFrame"]').count() == 1  # the score parts
    page.locator(".js-plotly-plot").first.wait_for()  # the store map

    page.get_by_text("Evaluate on held-out purchases").click()
    page.get_by_text("Customers evaluated", exact=True).wait_for()
    wait_for_app(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(2)  # map + evaluation bars
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text(f"Recommended for {two['name'].split()[0]}").scroll_into_view_if_needed()


def test_import_a_purchase_history_in_browser(app_url, demo_catalog, page, tmp_path):
    _, repo, _ = demo_catalog
    skus = [it.sku for it in repo.find_items(limit=6, sort="_id")]
    log = tmp_path / "history.csv"
    log.write_text("customer_id,sku,ts\n" + "".join(
        f"{'R1' if i < 3 else 'R2'},{sku},2025-04-0{i + 1}\n" for i, sku in enumerate(skus)))
    page.goto(f"{app_url}/customers")
    page.get_by_role("button", name="Run simulation").click()  # C001… picked, then replaced
    page.get_by_role("heading", name="Purchase history").wait_for()
    wait_for_app(page)
    page.get_by_test_id("stExpander").get_by_text("Import a purchase history").click()
    page.locator('input[type="file"]').first.set_input_files(str(log))
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Imported 6 purchases").wait_for()
    page.get_by_text("imported from history.csv").wait_for()
    wait_for_app(page)
    assert repo.get_doc("runs", "simulate")["kind"] == "import"
    assert [d["_id"] for d in repo.find_docs("customers", sort="_id")] == ["R1", "R2"]
    picker = page.get_by_test_id("stSelectbox").filter(has_text="Customer")
    expect(picker.locator("input").first).to_have_value(re.compile(r"^R1 · R1"))  # not C0…
    page.get_by_role("heading", name="Purchase history").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_run_a_simulation_and_download_the_csv(app_url, demo_catalog, page, tmp_path):
    """Run a small simulation, read the map and the evaluation's sample-size caution, then
    download purchases.csv and customers.csv: the same bytes as `customers export` writes."""
    from core.customers.importer import export_history

    _, repo, _ = demo_catalog
    page.goto(f"{app_url}/customers")
    page.get_by_role("button", name="Run simulation").wait_for()
    page.get_by_role("button", name="Run simulation").click()
    page.get_by_role("heading", name="Purchase history").wait_for()
    wait_for_app(page)
    assert repo.count_docs("customers") == 15
    # the store map, with its outlines: plotly draws the traces after the plot's frame
    page.locator(".js-plotly-plot .scatterlayer .trace").nth(1).wait_for()
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 2

    page.get_by_text("Evaluate on held-out purchases").click()
    page.get_by_text("Customers evaluated", exact=True).wait_for()
    wait_for_app(page)
    assert page.get_by_text("figures are rough").count() == 1

    files = export_history(repo, tmp_path / "cli")
    for name in ("purchases", "customers"):
        button = page.get_by_role("button", name=re.compile(rf"^{name}\.csv \("))
        with page.expect_download() as download:
            button.click()
        assert download.value.suggested_filename == f"{name}.csv"
        got = tmp_path / f"{name}.csv"
        download.value.save_as(got)
        assert got.read_bytes() == files[name].read_bytes()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text("figures are rough").scroll_into_view_if_needed()  # for the screenshot
