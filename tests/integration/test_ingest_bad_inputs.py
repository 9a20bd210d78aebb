"""The bad-input corpus: every broken file rejected with its reason, awkward ones normalised,
the database and the image store untouched by anything rejected."""

from __future__ import annotations

import json

from PIL import Image

from core.ingest import ingest_path
from tests.fixtures_bad import NORMALISED, REJECTED, make_bad_images, write_images
from tests.fixtures_ingest import make_analysis_json


def _stored_files(settings) -> set[str]:
    root = settings.data_dir
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_corpus_rejected_file_by_file(repo, settings, tmp_path):
    expected = make_bad_images(tmp_path / "corpus")
    report = ingest_path(repo, settings, tmp_path / "corpus")
    got = {r.file: r.reason for r in report.rejected}
    assert set(got) == set(REJECTED)
    for name, reason in got.items():
        assert REJECTED[name] in reason, (name, reason)
        assert "\n" not in reason
    assert report.added == len(NORMALISED) == repo.count_items()
    assert {it.extra["file"] for it in repo.iter_items()} == {
        n for n, v in expected.items() if v is None}
    # only the files of accepted images were written
    assert _stored_files(settings) == {it.image_path for it in repo.iter_items()}
    for item in repo.iter_items():
        with Image.open(settings.data_dir / item.image_path) as img:
            assert img.mode == "RGB" and img.format == "JPEG"
    rotated = next(it for it in repo.iter_items() if it.extra["file"] == "rotated.jpg")
    assert (rotated.width, rotated.height) == (40, 60)  # stored 60x40 with EXIF orientation 6


def test_rejected_only_batch_leaves_db_unchanged(repo, settings, tmp_path):
    write_images(tmp_path / "good", 3)
    ingest_path(repo, settings, tmp_path / "good")
    before = sorted((it.sku, it.hash) for it in repo.iter_items())
    files_before = _stored_files(settings)
    version = repo.catalog_version()
    folder = tmp_path / "bad"
    make_bad_images(folder)
    for name in NORMALISED:
        (folder / name).unlink()
    report = ingest_path(repo, settings, folder)
    assert report.added == 0 and len(report.rejected) == len(REJECTED)
    assert sorted((it.sku, it.hash) for it in repo.iter_items()) == before
    assert _stored_files(settings) == files_before
    assert repo.catalog_version() == version


def test_malformed_tables_rejected_per_row(repo, settings, tmp_path):
    write_images(tmp_path, 2)
    (tmp_path / "rows.csv").write_text(
        "image_name,category_label\nimg_00000.jpg,0\nimg_00001.jpg,3,extra\n"
        'img_00001.jpg,99\nimg_00001.jpg,2.5\n"img_00001.jpg,3\nimg_00000.jpg,1\n')
    report = ingest_path(repo, settings, tmp_path / "rows.csv")
    assert report.added == 1
    assert [str(r) for r in report.rejected] == [
        "rows.csv: row 3: 3 fields, header has 2",
        "rows.csv: row 4: unknown category_label 99 (expected 0..10 or a category name)",
        "rows.csv: row 5: unknown category_label 2.5 (expected 0..10 or a category name)",
        "rows.csv: row 6: unterminated quote (it runs into the following lines)",
    ]


def test_broken_analysis_json_is_one_rejection(repo, settings, tmp_path):
    path = make_analysis_json(tmp_path / "out")
    path.write_text(path.read_text()[:-5])
    report = ingest_path(repo, settings, path)
    assert [r.file for r in report.rejected] == ["fashion_analysis_1.json"]
    assert report.rejected[0].reason.startswith("invalid JSON at line 1")
    assert repo.count_items() == 0


def test_analysis_json_bad_entries(repo, settings, tmp_path):
    path = make_analysis_json(tmp_path / "out")
    data = json.loads(path.read_text())
    data["items"] += [{"det_label": "hat"}, "nonsense",
                      {"crop_file": "det_00_crop.jpg", "box": [1, 2]},
                      {"crop_file": "det_01_crop.jpg", "color": {"label": "Red", "score": "hi"}}]
    path.write_text(json.dumps(data))
    report = ingest_path(repo, settings, path)
    assert report.added == 2
    assert [str(r) for r in report.rejected] == [
        "fashion_analysis_1.json: item 2: no crop_file",
        "fashion_analysis_1.json: item 3: expected an object, got str",
        "fashion_analysis_1.json: item 4: box must be [x1, y1, x2, y2]",
        "fashion_analysis_1.json: item 5: color.score must be a number, got 'hi'",
    ]
