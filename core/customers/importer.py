"""Import a real purchase history in place of the simulated one.

The purchase log is a CSV file, a JSON array of objects or JSON lines (one object per line),
one purchase per row:

* ``customer_id``, ``sku`` (an item of the catalog) and ``ts`` are required. ``ts`` is an ISO
  date or date-time (``2025-01-06``, ``2025-01-06 10:15``, ``2025-01-06T10:15:00+01:00``);
  it is stored as the simulation stores it, ISO text to the second (``2025-01-06T10:15:00``;
  a date alone is midnight, a time with an offset is converted to UTC);
* ``store_id`` (one of the retailer's stores), ``price`` (0 or more) and ``purchase_id`` are
  optional: without them the item's store and price are recorded, and the id is
  ``<customer_id>-<n>`` for the customer's n-th purchase in time order (as the simulation
  numbers them).

An optional customers file (CSV or JSON the same way) has ``customer_id`` and optionally
``name``, ``gender`` (women, men or unknown), ``lat`` and ``lon`` (both or neither),
``home_store`` and ``trendiness`` (0..1). Customers of that file who bought nothing are
imported too; a purchase by a customer missing from it is an error. What is not given is
derived from the purchases:

* home: ``home_store`` if given; else the store nearest to the given ``lat``/``lon``; else
  the store the customer bought from most (ties: the one bought from first), else the first
  store by id; the home's position is the given ``lat``/``lon``, else that store's;
* gender: the most common gender other than unisex of the items they bought (ties: the first
  bought), else ``unknown``, which shops every item (see
  :func:`core.taxonomy.wearable_genders`);
* trendiness: DEFAULT_TRENDINESS (a bit of both);
* style: their most bought categories and colours, up to STYLE_CATEGORIES and STYLE_COLOURS
  (ties: the first bought);
* name: the customer id.

Validation is all or nothing: both files are read and checked completely before anything is
written, and any problem raises :class:`ImportProblem` naming the file, the line (CSV, JSON
lines) or record (JSON array) and the reason, grouped by kind with a few examples and the
count. Only then are customers and purchases replaced, every catalog item's popularity set
to its purchase count (0 for items never bought) and the ``runs`` record (``_id`` RUN_ID,
``"kind": "import"``, the file names, a summary shaped like a simulation's) written.
Importing the same files again leaves exactly the same documents. (Without transactions a
database failure in the middle of those writes can still leave a mix; validation failures
never do.) A customer who bought the same item twice keeps both purchases; when the held-out
last purchase repeats an earlier one, the leave-last-out evaluation counts it as a miss, since
recommendations never include what the customer owns.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from core.customers.catalog import CatalogView
from core.customers.customers import STYLE_CATEGORIES, STYLE_COLOURS, Customer, Purchase
from core.customers.geo import haversine_km
from core.customers.logfile import ImportProblem, Problems, Record, read_records
from core.customers.pipeline import RUN_ID, history_summary, stores_of
from core.storage.records import Store
from core.storage.validate import InvalidField, check_text
from core.taxonomy import UNISEX, UNKNOWN_GENDER

PURCHASE_COLUMNS = ("customer_id", "sku", "ts")  # required
CUSTOMER_COLUMNS = ("customer_id",)
# what `customers export` writes: every column the importer reads, in the importer's format
PURCHASE_EXPORT = ("purchase_id", "customer_id", "sku", "ts", "store_id", "price")
CUSTOMER_EXPORT = ("customer_id", "name", "gender", "lat", "lon", "home_store", "trendiness")
FILE_TYPES = ("csv", "json", "jsonl")  # what the importer reads
PURCHASE_HELP = ("One purchase per row: customer_id, sku, ts (ISO date or date-time); optional "
                 "store_id, price, purchase_id.")
CUSTOMER_HELP = ("customer_id; optional name, gender, lat, lon, home_store, trendiness. What is "
                 "missing is derived from the purchases.")
SHOPPER_GENDERS = ("women", "men", UNKNOWN_GENDER)
DEFAULT_TRENDINESS = 0.5
KIND = "import"
TS_HINT = "bad ts (use an ISO date like 2025-01-06 or 2025-01-06T10:15:00)"


@dataclass(frozen=True)
class Source:
    """One file to import: its name (in messages and the run record) and its content."""

    name: str
    data: bytes | str

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        try:
            return cls(str(path), Path(path).read_bytes())
        except OSError as exc:
            raise ImportProblem(f"{path}: cannot read it ({exc.strerror or exc})") from None


@dataclass
class History:
    """A validated purchase history with everything derived, ready to store."""

    catalog: CatalogView
    customers: list[Customer]  # by id
    purchases: list[Purchase]  # in time order
    popularity: np.ndarray  # purchase counts per catalog row
    sources: dict[str, str | None]  # file names: purchases, customers


@dataclass
class _Row:
    """A purchase as read (ids not settled yet)."""

    where: str
    customer_id: str
    sku: str
    ts: str
    store_id: str | None
    price: float | None
    purchase_id: str | None


@dataclass
class _Given:
    """What a customers file says about one customer (None: not given)."""

    name: str | None = None
    gender: str | None = None
    lat: float | None = None
    lon: float | None = None
    home_store: str | None = None
    trendiness: float | None = None


def parse_ts(value: str) -> str | None:
    """ISO seconds text of an ISO date or date-time (UTC when it has an offset), else None."""
    try:
        when = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(timespec="seconds")


def read_history(purchases: Source, customers: Source | None, catalog: CatalogView
                 ) -> History:
    """Parse and validate the files against the catalog and derive the customers; raises
    ImportProblem naming every problem found. Touches no database."""
    problems = Problems()
    recs = read_records(purchases.data, purchases.name, PURCHASE_COLUMNS, problems)
    rows = [r for r in (_purchase_row(rec, purchases.name, catalog, problems) for rec in recs)
            if r is not None]
    given: dict[str, _Given] = {}
    if customers is not None:
        crecs = read_records(customers.data, customers.name, CUSTOMER_COLUMNS, problems)
        given = _customer_rows(crecs, customers.name, catalog, problems)
        for r in rows:
            if r.customer_id not in given:
                problems.add(purchases.name, r.where,
                             f"customer_id not in {PurePath(customers.name).name}",
                             r.customer_id)
    bought = _purchases(rows, purchases.name, catalog, problems)
    problems.check()
    mine: dict[str, list[Purchase]] = {}
    for p in bought:
        mine.setdefault(p.customer_id, []).append(p)
    people = [_customer(cid, given.get(cid, _Given()), mine.get(cid, []), catalog)
              for cid in sorted(set(mine) | set(given))]
    counts = np.bincount(catalog.rows_of([p.sku for p in bought]), minlength=len(catalog))
    names = {"purchases": purchases, "customers": customers}
    return History(catalog, people, bought, counts.astype(np.float64),
                   {k: PurePath(s.name).name if s else None for k, s in names.items()})


def import_history(repo, purchases: Source, customers: Source | None = None) -> dict:
    """Validate the files on the repository's catalog, then replace the customers, purchases,
    popularity and run record with theirs; the summary. Nothing changes on ImportProblem."""
    if repo.count_items() == 0:
        raise ImportProblem("the catalog is empty: build the demo catalog (`python -m core "
                            "demo ensure`) or ingest a folder first")
    catalog = CatalogView.build(list(repo.iter_items()), stores_of(repo))
    history = read_history(purchases, customers, catalog)
    return store_history(repo, history)


def store_history(repo, h: History) -> dict:
    """Write a validated history in place of the current one (see the module docstring)."""
    customer_docs = [c.to_doc() for c in h.customers]
    purchase_docs = [p.to_doc() for p in h.purchases]
    repo.replace_docs("customers", customer_docs)
    repo.replace_docs("purchases", purchase_docs)
    repo.set_popularity(dict(zip(h.catalog.skus, h.popularity.tolist(), strict=True)))
    report = history_summary(h.catalog, h.customers, h.purchases, h.popularity)
    digest = hashlib.sha256(json.dumps([customer_docs, purchase_docs], sort_keys=True)
                            .encode()).hexdigest()[:16]
    repo.put_docs("runs", [{"_id": RUN_ID, "kind": KIND, "sources": h.sources,
                            "digest": digest, "catalog_version": repo.catalog_version(),
                            "summary": report}])
    return {**report, "kind": KIND, "sources": h.sources}


def import_summary(report: dict) -> str:
    """One line on what an import brought in."""
    return (f"Imported {report['purchases']:,} purchases of {report['items_bought']:,} items by "
            f"{report['customers']:,} customers from {report['first']} to {report['last']}.")


def export_tables(repo) -> dict[str, tuple[str, int]]:
    """The current customers and purchases (simulated or imported) as CSV text in the format
    :func:`import_history` reads: {"purchases": (text, rows), "customers": (text, rows)}."""
    tables = {"purchases": (PURCHASE_EXPORT, repo.find_docs("purchases", sort="ts")),
              "customers": (CUSTOMER_EXPORT, repo.find_docs("customers", sort="_id"))}
    out = {}
    for name, (columns, docs) in tables.items():
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        writer.writerow(columns)
        writer.writerows([["" if d.get(c) is None else d[c] for c in columns] for d in docs])
        out[name] = (buf.getvalue(), len(docs))
    return out


def export_history(repo, out_dir: Path) -> dict[str, Path | int]:
    """Write :func:`export_tables` as ``purchases.csv`` and ``customers.csv``, each file whole
    or not at all; their paths and row counts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path | int] = {}
    for name, (text, rows) in export_tables(repo).items():
        path = out_dir / f"{name}.csv"
        tmp = path.with_suffix(".csv.tmp")
        tmp.write_text(text, encoding="utf-8", newline="")
        tmp.replace(path)
        out[name], out[f"{name}_rows"] = path, rows
    return out


# -- reading values ------------------------------------------------------------------------
def _present(rec: Record, key: str) -> bool:
    value = rec.values.get(key)
    return value is not None and str(value).strip() != ""


def _text(rec: Record, key: str, name: str, problems: Problems, *, required: bool = False
          ) -> str | None:
    """A value as stripped text (JSON numbers too); None when empty or not text."""
    value = rec.values.get(key)
    if isinstance(value, bool | list | dict):
        problems.add(name, rec.where, f"{key} is not text", value)
        return None
    text = "" if value is None else str(value).strip()
    if required and not text:
        problems.add(name, rec.where, f"no {key}")
    if text:
        try:
            check_text(key, text)
        except InvalidField as exc:
            problems.add(name, rec.where, f"{key} {exc.reason}", value)
            return None
    return text or None


def _number(rec: Record, key: str, name: str, problems: Problems,
            lo: float = -np.inf, hi: float = np.inf) -> float | None:
    """A finite number in [lo, hi]; None when empty or unusable (a problem then)."""
    if not _present(rec, key):
        return None
    value = rec.values[key]
    try:
        x = float("nan") if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        x = float("nan")
    if not np.isfinite(x):
        problems.add(name, rec.where, f"{key} is not a number", value)
        return None
    if not lo <= x <= hi:
        reason = f"negative {key}" if lo == 0 and hi == np.inf else f"{key} outside {lo:g}..{hi:g}"
        problems.add(name, rec.where, reason, value)
        return None
    return x


# -- purchases -----------------------------------------------------------------------------
def _purchase_row(rec: Record, name: str, catalog: CatalogView, problems: Problems
                  ) -> _Row | None:
    """One purchase, or None when it has a problem (recorded in ``problems``)."""
    before = len(problems)
    cid = _text(rec, "customer_id", name, problems, required=True)
    sku = _text(rec, "sku", name, problems, required=True)
    raw = _text(rec, "ts", name, problems, required=True)
    ts = parse_ts(raw) if raw else None
    if raw and ts is None:
        problems.add(name, rec.where, TS_HINT, raw)
    if sku and sku not in catalog.row:
        problems.add(name, rec.where, "unknown sku (not in the catalog)", sku)
    store = _text(rec, "store_id", name, problems)
    if store and store not in catalog.stores:
        problems.add(name, rec.where, "unknown store_id", store)
    price = _number(rec, "price", name, problems, lo=0.0)
    pid = _text(rec, "purchase_id", name, problems)
    if len(problems) > before or not (cid and sku and ts):
        return None
    return _Row(rec.where, cid, sku, ts, store, price, pid)


def _purchases(rows: list[_Row], name: str, catalog: CatalogView, problems: Problems
               ) -> list[Purchase]:
    """The purchases in time order (ties: file order) with their ids settled: given, else
    ``<customer>-<n>``; a repeated id is a problem."""
    order = sorted(range(len(rows)), key=lambda i: rows[i].ts)
    ids: list[str] = [""] * len(rows)
    nth: Counter[str] = Counter()
    for i in order:
        nth[rows[i].customer_id] += 1
        ids[i] = rows[i].purchase_id or f"{rows[i].customer_id}-{nth[rows[i].customer_id]:02d}"
    seen: set[str] = set()
    for row, pid in zip(rows, ids, strict=True):
        if pid in seen:
            problems.add(name, row.where, "duplicate purchase_id", pid)
        seen.add(pid)
    out = []
    for i in order:
        r, item = rows[i], catalog.items[catalog.row[rows[i].sku]]
        out.append(Purchase(purchase_id=ids[i], customer_id=r.customer_id, sku=r.sku, ts=r.ts,
                            store_id=r.store_id or item.store_id,
                            price=r.price if r.price is not None else item.price))
    return sorted(out, key=lambda p: (p.ts, p.purchase_id))


# -- customers -----------------------------------------------------------------------------
def _customer_rows(records: list[Record], name: str, catalog: CatalogView,
                   problems: Problems) -> dict[str, _Given]:
    """What the customers file gives, by customer id."""
    out: dict[str, _Given] = {}
    for rec in records:
        cid = _text(rec, "customer_id", name, problems, required=True)
        gender = (_text(rec, "gender", name, problems) or "").lower() or None
        if gender and gender not in SHOPPER_GENDERS:
            problems.add(name, rec.where, f"gender not one of {', '.join(SHOPPER_GENDERS)}",
                         gender)
        if _present(rec, "lat") != _present(rec, "lon"):
            problems.add(name, rec.where, "lat without lon or lon without lat")
        home = _text(rec, "home_store", name, problems)
        if home and home not in catalog.stores:
            problems.add(name, rec.where, "unknown home_store", home)
        given = _Given(_text(rec, "name", name, problems), gender,
                       _number(rec, "lat", name, problems, -90, 90),
                       _number(rec, "lon", name, problems, -180, 180), home,
                       _number(rec, "trendiness", name, problems, 0, 1))
        if cid in out:
            problems.add(name, rec.where, "duplicate customer_id", cid)
        elif cid:
            out[cid] = given
    return out


def _customer(cid: str, given: _Given, bought: list[Purchase], catalog: CatalogView
              ) -> Customer:
    """A customer from what was given and what they bought (see the module docstring)."""
    rows = catalog.rows_of([p.sku for p in bought])
    home = _home(given, bought, catalog)
    located = given.lat is not None and given.lon is not None
    return Customer(
        customer_id=cid, name=given.name or cid, gender=given.gender or _gender(catalog, rows),
        trendiness=DEFAULT_TRENDINESS if given.trendiness is None else given.trendiness,
        home_city=home.city, home_store=home.store_id,
        lat=given.lat if located else home.lat, lon=given.lon if located else home.lon,
        categories=_most_common([catalog.items[r].category for r in rows], STYLE_CATEGORIES),
        colors=_most_common([str(c) for c in catalog.colors[rows] if c], STYLE_COLOURS))


def _home(given: _Given, bought: list[Purchase], catalog: CatalogView) -> Store:
    if given.home_store:
        return catalog.stores[given.home_store]
    stores = catalog.store_list
    if given.lat is not None and given.lon is not None:
        d = haversine_km(given.lat, given.lon, np.array([s.lat for s in stores]),
                         np.array([s.lon for s in stores]))
        return stores[int(np.argmin(d))]
    visits = _most_common([p.store_id for p in bought if p.store_id in catalog.stores], 1)
    return catalog.stores[visits[0]] if visits else stores[0]


def _gender(catalog: CatalogView, rows: np.ndarray) -> str:
    """The most common gender (not unisex) of the items bought, else unknown."""
    found = _most_common([str(g) for g in catalog.genders[rows] if g and g != UNISEX], 1)
    return found[0] if found else UNKNOWN_GENDER


def _most_common(values: list[Any], k: int) -> list[Any]:
    """Up to k distinct values, most frequent first (ties: the first seen first)."""
    return [v for v, _ in Counter(values).most_common(k)]
