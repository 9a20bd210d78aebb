"""Auto-tagging at ingest: a bare folder of photos gets predicted category, colour and pattern
that the filters read; supplied values are kept; `tag` re-runs it."""

from __future__ import annotations

import json

import pytest
import torch

from core.bootstrap import embed_and_tag
from core.cli import main
from core.ingest import ingest_path
from core.models.labels import CATEGORY_NAMES
from core.models.studio import STUDIO_FILE, new_encoder, save_checkpoint
from core.tagging.merge import supplied_update
from tests.fixtures_ingest import garment

TINY = (8, 8, 16, 16)
PHOTOS = {"red": 3, "blue": 3}


def _bare_folder(root) -> dict[str, str]:
    """Garment-like photos on a light background, no metadata: {file stem: colour}."""
    root.mkdir()
    truth = {}
    for colour, n in PHOTOS.items():
        for i in range(n):
            stem = f"photo_{colour}_{i}"
            garment(colour, size=96, seed=i).save(root / f"{stem}.jpg", quality=92)
            truth[stem] = colour
    return truth


@pytest.fixture
def tagged_env(repo, settings, cli_settings, tmp_path):
    """A bare folder ingested, embedded and tagged as the Home page does it."""
    truth = _bare_folder(tmp_path / "bare")
    torch.manual_seed(0)
    save_checkpoint(new_encoder(widths=TINY, attr_heads=True),
                    settings.weights_dir / STUDIO_FILE)
    assert ingest_path(repo, settings, tmp_path / "bare").added == len(truth)
    report = embed_and_tag(repo, settings)
    assert report.embedded == len(truth) and report.tagged == len(truth)
    return truth


def _cli(capsys, *argv):
    code = main(list(argv))
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def test_bare_photos_get_predicted_tags_the_colour_filter_reads(repo, settings, tagged_env,
                                                                capsys):
    truth = tagged_env
    items = list(repo.iter_items())
    assert len(items) == len(truth)
    for item in items:
        assert item.category in CATEGORY_NAMES
        assert item.attrs["color"] == truth[item.name]
        for name in ("category", "color", "pattern"):
            tag = item.tags[name]
            assert tag["source"] == "predicted" and 0 < tag["confidence"] <= 1
        assert item.tags["color"]["method"] in {"mask", "background", "centre"}
    red = sorted(it.sku for it in items if truth[it.name] == "red")
    assert sorted(it.sku for it in repo.find_items({"color": "red"})) == red
    query = str(settings.data_dir / items[0].image_path)
    code, rows = _cli(capsys, "search", query, "--filter", "color=red", "--k", "10", "--json")
    assert code == 0 and sorted(r["id"] for r in rows) == red


def test_tag_cli_keeps_supplied_values_and_redoes_predicted_ones(repo, tagged_env, capsys):
    code, first = _cli(capsys, "tag", "--json")
    assert code == 0 and first["scanned"] == 0 and first["tagged"] == 0  # up to date
    items = list(repo.iter_items())
    fixed, stale = items[0], items[1]
    repo.apply_item_updates([supplied_update(fixed, {"color": "burgundy", "category": "coat"})])
    repo.update_item_fields(stale.sku, {"tags.category.model": "an older encoder",
                                        "category": "hat"})
    code, again = _cli(capsys, "tag", "--json")
    assert code == 0 and again["scanned"] == 1 and again["fields"]["category"] == 1
    assert repo.get_item(stale.sku).category == stale.category  # re-predicted
    code, redo = _cli(capsys, "tag", "--all", "--json")
    assert code == 0 and redo["scanned"] == len(items)
    assert redo["fields"] == {"category": len(items) - 1, "color": len(items) - 1,
                              "pattern": len(items), "sleeve": len(items)}
    kept = repo.get_item(fixed.sku)
    assert kept.category == "coat" and kept.attrs["color"] == "burgundy"
    assert set(kept.tags) == {"pattern", "sleeve"}
    assert set(redo) >= {"tagged", "values", "unavailable", "unreadable", "seconds", "items"}


def test_metadata_supplied_later_replaces_predicted_values(repo, settings, tagged_env, tmp_path):
    bare = tmp_path / "bare"
    (bare / "metadata.csv").write_text("file,category,color\nphoto_red_0.jpg,coat,burgundy\n"
                                       "photo_blue_0.jpg,,\n")
    report = ingest_path(repo, settings, bare)
    assert (report.added, report.duplicates, report.supplied) == (0, len(tagged_env), 1)
    item = next(it for it in repo.iter_items() if it.name == "photo_red_0")
    assert (item.category, item.attrs["color"]) == ("coat", "burgundy")
    assert set(item.tags) == {"pattern", "sleeve"}  # still predicted: the metadata says nothing
    (bare / "metadata.csv").write_text("file,category\nphoto_red_0.jpg,dress\n")
    assert ingest_path(repo, settings, bare).supplied == 0  # supplied values are kept
    assert repo.get_item(item.sku).category == "coat"


def test_a_person_corrects_an_items_tags_and_tagging_keeps_them(repo, tagged_env, capsys):
    item = next(iter(repo.iter_items()))
    code, out = _cli(capsys, "tag", "--item", item.sku, "--set", "color=olive",
                     "--set", "pattern=striped", "--json")
    assert code == 0 and out == {"id": item.sku, "category": out["category"],
                                 "color": "olive", "pattern": "striped",
                                 "sleeve": out["sleeve"]}
    assert "(predicted" in out["sleeve"]
    assert "(predicted" in out["category"]  # untouched, still a prediction
    fixed = repo.get_item(item.sku)
    assert (fixed.attrs["color"], fixed.attrs["pattern"]) == ("olive", "striped")
    assert set(fixed.tags) == {"category", "sleeve"}
    code, redo = _cli(capsys, "tag", "--all", "--json")
    kept = repo.get_item(item.sku)
    assert code == 0 and (kept.attrs["color"], kept.attrs["pattern"]) == ("olive", "striped")
    assert sorted(it.sku for it in repo.find_items({"color": "olive"})) == [item.sku]


@pytest.mark.parametrize("argv, reason", [
    (["--item", "NOPE", "--set", "color=red"], "no item 'NOPE'"),
    (["--item", "{sku}", "--set", "color=teal"], "color 'teal' is not one of the catalog's"),
    (["--item", "{sku}", "--set", "size=m"], "cannot set 'size'"),
    (["--item", "{sku}", "--set", "color"], "must look like key=value"),
    (["--item", "{sku}", "--set", "color=red,blue"], "one value per field"),
    (["--item", "{sku}"], "give both --item SKU"),
    (["--item", "{sku}", "--set", "color=red", "--all"], "not with --item"),
    (["--item", "{sku}", "--set", "category=sneakers", "--set", "sleeve=long"],
     "sneakers have no sleeves"),
])
def test_tag_corrections_refuse_bad_input_and_change_nothing(repo, tagged_env, capsys, argv,
                                                             reason):
    item = next(iter(repo.iter_items()))
    before = repo.get_item(item.sku)
    code = main(["tag", *[a.format(sku=item.sku) for a in argv]])
    assert code == 2 and reason in capsys.readouterr().err
    assert repo.get_item(item.sku) == before
