"""Format detection and the readers, without a database."""

from __future__ import annotations

import json

import pytest

from core.ingest import LABEL_CSV_CATEGORIES, IngestError, detect_source
from core.ingest.sources import Candidate, RowError, apply_metadata, parse_price, read_csv
from core.ingest.tables import category_from_label
from tests.fixtures_bad import jpeg_bytes, write_images
from tests.fixtures_ingest import make_analysis_json, make_class_folders, make_demo_catalog


def test_category_label_map():
    assert LABEL_CSV_CATEGORIES == ("blazer", "cardigan", "hoodie", "jacket", "sweater", "tank",
                                    "tee", "top", "dress", "jumpsuit", "romper")
    assert category_from_label("0") == "blazer"
    assert category_from_label(" 10 ") == "romper"
    assert category_from_label("8.0") == "dress"
    assert category_from_label("Jump  Suit") == "jump suit"
    for bad in ("11", "-1", "2.5", ""):
        with pytest.raises(RowError):
            category_from_label(bad)


def test_detects_each_layout(tmp_path):
    make_demo_catalog(tmp_path / "demo", n=3)
    make_class_folders(tmp_path / "cls")
    make_class_folders(tmp_path / "flat", splits=False)
    path = make_analysis_json(tmp_path / "fa")
    write_images(tmp_path / "plain", 2)
    (tmp_path / "labels.csv").write_text("image_name,category_label\n")
    assert detect_source(tmp_path / "demo").format == "demo"
    assert detect_source(tmp_path / "cls").format == "class-folders"
    assert detect_source(tmp_path / "flat").format == "class-folders"
    assert detect_source(path).format == "analysis-json"
    assert detect_source(tmp_path / "fa").format == "analysis-json"
    assert detect_source(tmp_path / "plain").format == "folder"
    assert detect_source(tmp_path / "labels.csv").format == "csv-labels"
    assert detect_source(tmp_path / "plain" / "img_00000.jpg").format == "image"


def test_manifest_of_other_format_is_a_plain_folder(tmp_path):
    write_images(tmp_path, 1)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something-else"}))
    assert detect_source(tmp_path).format == "folder"
    (tmp_path / "manifest.json").write_text("{broken")
    assert detect_source(tmp_path).format == "folder"


def test_class_folder_splits_and_categories(tmp_path):
    make_class_folders(tmp_path)
    (tmp_path / "test" / "Tank_Top").mkdir(parents=True)
    (tmp_path / "test" / "Tank_Top" / "a.jpg").write_bytes(jpeg_bytes())
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "x.jpg").write_bytes(jpeg_bytes())
    src = detect_source(tmp_path)
    seen = {(c.fields.get("split"), c.category) for c in src.candidates}
    assert seen == {("train", "dress"), ("train", "hat"), ("val", "dress"), ("val", "hat"),
                    ("test", "tank top")}
    assert not src.rejections


def test_class_folders_with_stray_folder_reported(tmp_path):
    make_class_folders(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "n.jpg").write_bytes(jpeg_bytes())
    src = detect_source(tmp_path)
    assert [str(r) for r in src.rejections] == [
        "notes/: not a split folder (expected train/val/test); skipped"]
    assert all(not c.label.startswith("notes/") for c in src.candidates)


def test_demo_reader_keeps_sku_mask_and_documents(tmp_path):
    src = detect_source(make_demo_catalog(tmp_path, n=3))
    first = src.candidates[0]
    assert (first.sku, first.label, first.mask.name) == ("demo-0000", "images/demo-0000.jpg",
                                                         "demo-0000.png")
    assert first.extra == {"family": "top", "render": {"background": "plain"}}
    assert [d["_id"] for d in src.docs["stores"]] == ["s0", "s1"]
    assert [d["_id"] for d in src.docs["pairs"]] == ["p1"]


def test_demo_side_file_problems_are_rejections(tmp_path):
    root = make_demo_catalog(tmp_path, n=2)
    (root / "stores.json").write_text(json.dumps([{"store_id": "s0", "name": "A"}, {"x": 1}]))
    (root / "pairs.json").write_text("[{")
    src = detect_source(root)
    assert [str(r) for r in src.rejections] == [
        "stores.json: entry 0 (s0): no city, lat, lon",
        "stores.json: entry 1: no store_id",
        "pairs.json: invalid JSON at line 1 column 3: Expecting property name enclosed in "
        "double quotes",
    ]
    assert len(src.candidates) == 2 and not src.fatal


def test_demo_without_items_file_is_fatal(tmp_path):
    root = make_demo_catalog(tmp_path, n=1)
    (root / "items.jsonl").unlink()
    src = detect_source(root)
    assert src.fatal and [str(r) for r in src.rejections] == [
        "items.jsonl: missing from the demo catalog"]


def test_apply_metadata_normalises():
    cand = apply_metadata(Candidate(file=None, label="x"), {
        "sku": " A1 ", "category": " Summer  Dress", "color": "Navy Blue", "attrs": {"fit": "Slim"},
        "price": "$12.50", "brand": "Acme", "split": "Validation", "gender": ""})
    assert cand.sku == "A1" and cand.category == "summer dress"
    assert cand.attrs == {"color": "navy blue", "fit": "slim"}
    assert cand.fields == {"brand": "Acme", "price": 12.5, "split": "val"}


@pytest.mark.parametrize("value", ["abc", "-3", "nan", "inf"])
def test_bad_prices(value):
    with pytest.raises(RowError):
        parse_price(value)
    assert parse_price("") is None and parse_price(7) == 7.0


def test_read_csv_semicolons_bom_and_blank_lines(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("\ufeffFile;Category\na.jpg;dress\n\nb.jpg;hat\n", encoding="utf-8")
    header, rows = read_csv(path, required=("file",))
    assert header == ["file", "category"]
    assert rows == [{"file": "a.jpg", "category": "dress"}, {},
                    {"file": "b.jpg", "category": "hat"}]
    with pytest.raises(RowError, match="missing column"):
        read_csv(path, required=("image_name",))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(RowError, match="empty CSV"):
        read_csv(tmp_path / "empty.csv")


def test_unknown_paths(tmp_path):
    with pytest.raises(IngestError, match="no such file"):
        detect_source(tmp_path / "missing")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(IngestError, match="not a recognised source"):
        detect_source(tmp_path / "a.txt")
    source = detect_source(tmp_path)  # files but no image: each one is named
    assert not source.candidates
    assert [str(r) for r in source.rejections] == [
        "a.txt: unsupported format .txt (supported: .jpg, .jpeg, .jfif, .png, .webp, .gif, "
        ".bmp, .tif, .tiff)"]
    (tmp_path / "a.txt").unlink()
    with pytest.raises(IngestError, match="no images found"):
        detect_source(tmp_path)
