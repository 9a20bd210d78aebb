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


def test_every_file_of_a_folder_is_accounted_for(repo, settings, cli_settings, tmp_path,
                                                 capsys):
    from core.cli import main
    from tests.fixtures_bad import HEIC, SVG, ico_bytes, jpeg_bytes

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(jpeg_bytes(seed=1))
    for name, data in (("a.svg", SVG), ("a.heic", HEIC), ("a.ico", ico_bytes())):
        (folder / name).write_bytes(data)
    (folder / "dang.jpg").symlink_to(tmp_path / "gone.jpg")
    assert main(["ingest", str(folder)]) == 2
    out = capsys.readouterr().out
    assert "added 1, skipped as duplicate 0, rejected 4" in out
    for name in ("a.svg", "a.heic", "a.ico"):
        assert f"rejected {name}: unsupported format {name[1:]} (supported: .jpg" in out
    assert "rejected dang.jpg: broken symbolic link" in out
    assert repo.count_items() == 1


def test_unreadable_analysis_in_folder_writes_nothing(repo, settings, tmp_path):
    path = make_analysis_json(tmp_path / "out")
    path.rename(path.with_name("analysis.json"))
    (tmp_path / "out" / "fashion_analysis_2.json").write_text('{"items": [')
    report = ingest_path(repo, settings, tmp_path / "out")
    assert [str(r) for r in report.rejected] == [
        "fashion_analysis_2.json: invalid JSON at line 1 column 12: Expecting value"]
    assert report.added == 0 and repo.count_items() == 0


def _sku_folder(root, rows: list[tuple[str, str]], seeds: dict[str, int]):
    from tests.fixtures_bad import jpeg_bytes

    root.mkdir(parents=True, exist_ok=True)
    for file, seed in seeds.items():
        (root / file).write_bytes(jpeg_bytes(seed=seed))
    (root / "metadata.csv").write_text("file,sku,color\n" + "".join(
        f"{file},{sku},red\n" for file, sku in rows))
    return root


def test_sku_conflicts_keep_the_stored_item(repo, settings, tmp_path):
    first = _sku_folder(tmp_path / "a", [("old.jpg", "D000001")], {"old.jpg": 1})
    assert ingest_path(repo, settings, first).added == 1
    stored = repo.get_item("D000001")
    again = ingest_path(repo, settings, first)  # identical content: a duplicate, no conflict
    assert (again.duplicates, again.rejected) == (1, [])
    clash = _sku_folder(tmp_path / "b", [("new.jpg", "D000001"), ("x.jpg", "D000002"),
                                              ("y.jpg", "D000002")],
                        {"new.jpg": 2, "x.jpg": 3, "y.jpg": 4})
    report = ingest_path(repo, settings, clash)
    assert report.added == 1
    assert [str(r) for r in report.rejected] == [
        "new.jpg: conflict: sku D000001 already names another image; use --replace to update it",
        "y.jpg: conflict: sku D000002 is already given to x.jpg in this run"]
    assert repo.get_item("D000001").hash == stored.hash


def test_replace_updates_the_image_and_reembeds(repo, settings, cli_settings, tmp_path,
                                                capsys):
    from core.cli import main
    from core.models.embed import Embedder, embed_catalog
    from core.models.studio import new_encoder, save_checkpoint

    first = _sku_folder(tmp_path / "a", [("old.jpg", "D000001"), ("other.jpg", "D000009")],
                        {"old.jpg": 1, "other.jpg": 5})
    ingest_path(repo, settings, first)
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    settings.weights_dir / "studio_encoder.pt")
    embedder = Embedder("studio_encoder", settings)
    assert embed_catalog(repo, settings, "studio_encoder", embedder=embedder, workers=0) == 2
    old = repo.get_item("D000001")
    repo.set_popularity({"D000001": 3.0})
    new = _sku_folder(tmp_path / "b", [("new.jpg", "D000001")], {"new.jpg": 2})
    assert main(["ingest", str(new)]) == 2
    assert "conflict: sku D000001 already names another image" in capsys.readouterr().out
    assert main(["ingest", str(new), "--replace"]) == 0
    assert "added 0, replaced 1" in capsys.readouterr().out
    item = repo.get_item("D000001")
    assert item.hash != old.hash and item.extra["file"] == "new.jpg"
    assert item.popularity == 3.0 and repo.count_items() == 2
    assert (settings.data_dir / item.image_path).is_file()
    assert not (settings.data_dir / old.image_path).exists()
    assert repo.skus_without_vectors("studio_encoder") == ["D000001"]
    assert embed_catalog(repo, settings, "studio_encoder", embedder=embedder, workers=0) == 1
    assert repo.vector_count("studio_encoder") == 2


def test_recommend_colours_survives_a_bad_stored_document(repo, settings, cli_settings,
                                                          small_catalog, capsys):
    from core.cli import main

    small_catalog(6)
    repo.items.update_one({"_id": "T001"}, {"$set": {"attrs.color": {"$gt": ""}}})
    assert main(["recommend", "colours", "--sku", "T001", "--json"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_bad_values_never_reach_a_stored_duplicate(repo, settings, tmp_path):
    from tests.fixtures_bad import jpeg_bytes

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(jpeg_bytes(seed=7))
    assert ingest_path(repo, settings, tmp_path / "a").added == 1
    (tmp_path / "b" / "$where").mkdir(parents=True)
    (tmp_path / "b" / "$where" / "x.jpg").write_bytes(jpeg_bytes(seed=7))  # same content
    report = ingest_path(repo, settings, tmp_path / "b")
    assert [str(r) for r in report.rejected] == [
        "$where/x.jpg: category: '$where' starts with '$'"]
    assert report.supplied == 0
    assert [it.category for it in repo.iter_items()] == ["unknown"]


def test_a_rerun_refreshes_the_catalog_version_a_killed_run_may_not_have_bumped(
        repo, settings, tmp_path):
    from tests.fixtures_bad import jpeg_bytes

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        (folder / f"p{i}.jpg").write_bytes(jpeg_bytes((48, 40), seed=i))
    ingest_path(repo, settings, folder)
    # a run killed between its insert and its version bump: the items are stored, the
    # version is not; the re-run adds nothing but must still move the version on
    before = repo.catalog_version()
    report = ingest_path(repo, settings, folder)
    assert report.added == 0 and report.duplicates == 2
    assert repo.catalog_version() > before
