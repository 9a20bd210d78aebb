"""ingest_path on every supported layout, against the real embedded server."""

from __future__ import annotations

import csv

import pytest
from PIL import Image

from core.ingest import IngestError, detect_source, ingest_path
from tests.fixtures_bad import jpeg_bytes, write_images
from tests.fixtures_ingest import (
    make_analysis_json,
    make_class_folders,
    make_demo_catalog,
)


def _files_exist(repo, settings):
    for item in repo.iter_items():
        assert (settings.data_dir / item.image_path).is_file(), item.image_path
        if item.mask_path:
            assert (settings.data_dir / item.mask_path).is_file(), item.mask_path


def test_demo_catalog_items_masks_and_documents(repo, settings, tmp_path):
    root = make_demo_catalog(tmp_path / "demo", n=6)
    calls = []
    report = ingest_path(repo, settings, root, progress=lambda d, t: calls.append((d, t)))
    assert (report.format, report.added, report.duplicates, report.rejected) == ("demo", 6, 0, [])
    assert calls[0] == (0, 6) and calls[-1] == (6, 6)
    item = repo.get_item("demo-0003")
    assert item.category == "hat" and item.attrs["color"] == "black"
    assert item.attrs["sleeve"] == "short" and item.price == 13.0 and item.brand == "Acme"
    assert item.split == "train" and item.store_id == "s1" and item.extra["family"] == "top"
    assert item.image_path == f"images/{item.hash[:2]}/{item.hash}.jpg"
    assert item.mask_path == f"masks/{item.hash[:2]}/{item.hash}.png"
    assert (item.width, item.height) == (64, 64)
    # masks are copied bit-exact (colour codes must survive)
    src_mask = (root / "masks" / "demo-0003.png").read_bytes()
    assert (settings.data_dir / item.mask_path).read_bytes() == src_mask
    _files_exist(repo, settings)
    assert [s.store_id for s in repo.stores()] == ["s0", "s1"]
    assert repo.get_doc("pairs", "p1")["target"] == "demo-0003"
    # o2 names an item that is not in the catalog: left out, never a dangling reference
    assert repo.get_doc("outfits", "o1") is not None and repo.get_doc("outfits", "o2") is None
    assert report.docs == {"stores": 2, "outfits": 1, "pairs": 1}


def test_demo_with_broken_lines_goes_on(repo, settings, tmp_path):
    root = make_demo_catalog(tmp_path / "demo", n=4, broken_line=True)
    report = ingest_path(repo, settings, root)
    assert report.added == 4
    reasons = sorted(str(r) for r in report.rejected)
    assert reasons == ["items.jsonl: line 2: invalid JSON (Expecting value)",
                       "items.jsonl: line 6: item demo-missing: image images/nope.jpg not found"]


def test_demo_limit_then_rest(repo, settings, tmp_path):
    root = make_demo_catalog(tmp_path / "demo", n=6)
    assert ingest_path(repo, settings, root, limit=2).added == 2
    assert repo.count_items() == 2
    assert repo.get_doc("pairs", "p1") is None  # its target is not ingested yet
    report = ingest_path(repo, settings, root)
    assert (report.added, report.duplicates) == (4, 2)
    assert repo.get_doc("pairs", "p1") is not None


def test_class_folders_with_splits(repo, settings, tmp_path):
    counts = make_class_folders(tmp_path / "cls", splits=True)
    report = ingest_path(repo, settings, tmp_path / "cls")
    assert report.format == "class-folders" and report.added == 8 and not report.rejected
    assert repo.counts_by("category") == counts
    assert repo.counts_by("split") == {"train": 4, "val": 4}
    item = repo.find_items({"category": "hat", "split": "val"}, limit=1)[0]
    assert item.extra["file"].startswith("validation/hat/")
    assert item.sku == f"img-{item.hash[:12]}"


def test_class_folders_without_splits(repo, settings, tmp_path):
    make_class_folders(tmp_path / "cls", splits=False)
    report = ingest_path(repo, settings, tmp_path / "cls")
    assert report.added == 4
    assert repo.counts_by("category") == {"dress": 2, "hat": 2}
    assert repo.counts_by("split") == {"None": 4}


def test_category_label_csv_by_index_and_name(repo, settings, tmp_path):
    write_images(tmp_path / "imgs", 3)
    rows = [("imgs/img_00000.jpg", "8"), ("imgs/img_00001.jpg", "Hoodie"),
            ("imgs/img_00002.jpg", "14"), ("imgs/gone.jpg", "1"), ("", "2")]
    path = tmp_path / "labels.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["image_name", "category_label"])
        w.writerows(rows)
    report = ingest_path(repo, settings, path)
    assert report.format == "csv-labels" and report.added == 2
    assert repo.counts_by("category") == {"dress": 1, "hoodie": 1}
    assert [str(r) for r in report.rejected] == [
        "labels.csv: row 4: unknown category_label 14 (expected 0..10 or a category name)",
        f"labels.csv: row 5: image imgs/gone.jpg not found (relative to {tmp_path} or the CWD)",
        "labels.csv: row 6: empty image_name",
    ]


def test_csv_paths_relative_to_cwd(repo, settings, tmp_path, monkeypatch):
    write_images(tmp_path / "data" / "x", 1)
    (tmp_path / "lists").mkdir()
    path = tmp_path / "lists" / "db.csv"
    path.write_text("image_name,category_label\ndata/x/img_00000.jpg,0\n")
    monkeypatch.chdir(tmp_path)
    report = ingest_path(repo, settings, path)
    assert report.added == 1 and repo.counts_by("category") == {"blazer": 1}


def test_analysis_json(repo, settings, tmp_path):
    path = make_analysis_json(tmp_path / "fashion_out", missing_crop=True)
    report = ingest_path(repo, settings, path)
    assert report.format == "analysis-json" and report.added == 2
    assert [str(r) for r in report.rejected] == [
        "fashion_analysis_1.json: item 2: crop file det_09_crop.jpg not found"]
    item = repo.find_items({"category": "trousers"}, limit=1)[0]
    assert item.attrs == {"color": "blue", "pattern": "denim", "season": "spring"}
    assert item.extra["det_score"] == pytest.approx(0.99)
    assert item.extra["box"] == [10, 20, 110, 220]
    assert item.extra["scores"] == {"color": 0.84, "pattern": 0.9, "season": 0.8}
    # the folder holding fashion_analysis_*.json is recognised too
    assert detect_source(tmp_path / "fashion_out").format == "analysis-json"


def test_plain_folder_with_csv_sidecar(repo, settings, tmp_path):
    folder = tmp_path / "shop"
    write_images(folder, 4)
    (folder / "metadata.csv").write_text(
        "file,sku,category,name,color,price,brand,gender\n"
        "img_00000.jpg,SKU-1,Dress,Red dress,Red,19.90,Acme,women\n"
        "img_00001.jpg,SKU-2,Tee,,blue,abc,,\n"
        "img_00002.jpg,SKU-3,hat\n"
        "missing.jpg,SKU-9,tee,,,,,\n"
    )
    report = ingest_path(repo, settings, folder)
    assert report.format == "folder+metadata.csv" and report.added == 2
    assert [str(r) for r in report.rejected] == [
        "metadata.csv: row 3 (img_00001.jpg): price 'abc' is not a number",
        "metadata.csv: row 4 (img_00002.jpg): 3 fields, header has 8",
        "metadata.csv: row 5: image missing.jpg not found",
    ]
    item = repo.get_item("SKU-1")
    assert (item.category, item.name, item.attrs, item.price, item.gender) == (
        "dress", "Red dress", {"color": "red"}, 19.9, "women")
    assert repo.count_items({"category": "unknown"}) == 1  # img_00003 has no row


def test_plain_folder_with_json_sidecar(repo, settings, tmp_path):
    folder = tmp_path / "shop"
    write_images(folder, 2)
    (folder / "metadata.json").write_text(
        '{"img_00000.jpg": {"sku": "J1", "category": "Skirt", "season": "Winter"}}')
    report = ingest_path(repo, settings, folder)
    assert report.added == 2 and not report.rejected
    assert repo.get_item("J1").attrs == {"season": "winter"}


@pytest.mark.parametrize("sidecar, text, reason", [
    ("metadata.json", '[{"file": "img_00000.jpg",', "invalid JSON at line 1 column 27"),
    ("metadata.json", '"just a string"', "expected a list of objects"),
    ("metadata.csv", "sku,category\nA,dress\n", "no file column"),
])
def test_unparseable_sidecar_writes_nothing(repo, settings, tmp_path, sidecar, text, reason):
    folder = tmp_path / "shop"
    write_images(folder, 3)
    (folder / sidecar).write_text(text)
    report = ingest_path(repo, settings, folder)
    assert report.added == 0 and len(report.rejected) == 1
    assert report.rejected[0].file == sidecar and reason in report.rejected[0].reason
    assert repo.count_items() == 0
    assert not (settings.data_dir / "images").exists()


def test_unusable_csv_is_one_rejection(repo, settings, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("name,label\nx.jpg,1\n")
    report = ingest_path(repo, settings, path)
    assert [str(r) for r in report.rejected] == [
        "labels.csv: missing column(s) image_name, category_label; header is name,label"]
    assert repo.count_items() == 0


def test_single_image_and_in_run_duplicates(repo, settings, tmp_path):
    data = jpeg_bytes(seed=7)
    (tmp_path / "a.jpg").write_bytes(data)
    assert ingest_path(repo, settings, tmp_path / "a.jpg").added == 1
    folder = tmp_path / "dups"
    folder.mkdir()
    for name in ("b.jpg", "c.jpg", "d.jpg"):
        (folder / name).write_bytes(data)
    (folder / "e.jpg").write_bytes(jpeg_bytes(seed=8))
    report = ingest_path(repo, settings, folder)
    assert (report.added, report.duplicates) == (1, 3)


def test_normalised_formats_stored_as_rgb_jpeg(repo, settings, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    rgba = Image.new("RGBA", (40, 32), (0, 0, 0, 0))
    rgba.save(folder / "clear.png")
    Image.new("CMYK", (32, 32), (0, 0, 0, 255)).save(folder / "ink.jpg")
    assert ingest_path(repo, settings, folder).added == repo.count_items() == 2
    for item in repo.iter_items():
        with Image.open(settings.data_dir / item.image_path) as img:
            assert img.format == "JPEG" and img.mode == "RGB"
            assert img.size == (item.width, item.height)


def test_unknown_paths(repo, settings, tmp_path):
    with pytest.raises(IngestError, match="no such file or directory"):
        ingest_path(repo, settings, tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(IngestError, match="not a recognised source"):
        ingest_path(repo, settings, tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="no images found"):
        ingest_path(repo, settings, tmp_path / "empty")
