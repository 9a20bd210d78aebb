"""`eval colour` on a tiny synthetic photo folder, and the colour re-ranking of search."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.tagging.colour import ColourReading
from core.tagging.colour_rank import colour_bonus, rerank
from core.tagging.evaluate import LabelledPhoto, accepted, search_colour_match
from core.taxonomy import COLORS

# (file, colour drawn, label)
PHOTOS = [("dress/a.png", "red", {"color": "red"}),
          ("dress/b.png", "navy", {"color": "blue"}),  # read navy: lenient (darker neighbour)
          ("shirt/c.png", "green", {"color": "yellow", "worn": True}),  # wrong
          ("shirt/d.png", "white", {"color": "grey", "second": "white"}),  # lenient via second
          ("shirt/e.png", "black", {"color": None, "skip": True})]


@pytest.fixture
def folder(tmp_path):
    for rel, colour, _ in PHOTOS:
        arr = np.full((64, 48, 3), (200, 200, 205), dtype=np.uint8)
        arr[12:56, 10:38] = COLORS[colour].rgb
        (tmp_path / "validation" / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(tmp_path / "validation" / rel)
    labels = {rel: {"second": None, "pattern": "solid", "worn": False, **lab}
              for rel, _, lab in PHOTOS}
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"palette": list(COLORS), "labels": labels}))
    return tmp_path, path


def test_eval_colour_reports_strict_and_lenient(folder, capsys):
    data, labels = folder
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["photos"] == 4 and out["left_out"]["skipped"] == 1
    assert out["reader"]["all"] == {"photos": 4, "strict": 0.25, "lenient": 0.75}
    assert out["reader"]["worn"] == {"photos": 1, "strict": 0.0, "lenient": 0.0}
    assert out["reader"]["not_worn"]["photos"] == 3
    assert "search" not in out


def test_eval_colour_prints_a_table(folder, capsys):
    data, labels = folder
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels)]) == 0
    assert "strict 0.250  lenient 0.750" in capsys.readouterr().out


def test_eval_colour_skips_a_missing_folder_cleanly(tmp_path, capsys):
    code = main(["eval", "colour", "--data", str(tmp_path / "absent"), "--labels",
                 str(tmp_path / "labels.json")])
    assert code == 2
    assert "no such folder" in capsys.readouterr().err


def test_eval_colour_rejects_a_bad_labels_file(folder, capsys):
    data, _ = folder
    bad = data / "bad.json"
    bad.write_text("[1, 2]")
    assert main(["eval", "colour", "--data", str(data), "--labels", str(bad)]) == 2
    assert "not a colour labels file" in capsys.readouterr().err


def test_lenient_accepts_second_and_shade_neighbours():
    photo = LabelledPhoto(None, "red", "white", False)
    assert all(accepted(c, photo) for c in ("red", "white", "pink", "burgundy"))
    assert not accepted("orange", photo)


READ_RED = ColourReading("red", None, 1.0, 1.0, "background")


def test_colour_rank_breaks_near_ties_not_clear_wins():
    scores = [0.90, 0.89, 0.70]
    colours = ["blue", "red", "red"]
    assert rerank(scores, colours, READ_RED) == [1, 0, 2]  # near tie goes to red
    assert rerank(scores, colours, None) == [0, 1, 2]
    assert rerank([0.95, 0.75], ["blue", "red"], READ_RED) == [0, 1]  # clearly better wins
    unsure = ColourReading("red", None, 0.1, 0.5, "centre")
    assert colour_bonus("red", unsure) < colour_bonus("red", READ_RED)
    assert colour_bonus("blue", READ_RED) == 0.0


def test_only_items_that_could_be_the_same_garment_get_the_colour_bonus():
    from core.tagging.colour_rank import category_weight

    guess = [("dress", 0.6), ("jumpsuit", 0.3), ("skirt", 0.1)]
    assert category_weight("dress", guess) == 1.0 and category_weight("jumpsuit", guess) == 0.5
    assert category_weight("boots", guess) == 0.0 and category_weight("boots", None) == 1.0
    scores, colours = [0.79, 0.70, 0.69], ["black", "burgundy", "burgundy"]
    # a burgundy dress passes a black one; a burgundy coat does not
    burgundy = ColourReading("burgundy", None, 0.9, 0.5, "encoder+pixels", {"burgundy": 1.0})
    assert rerank(scores, colours, burgundy, bonus=0.16, categories=["dress", "coat", "dress"],
                  guess=[("dress", 1.0)]) == [2, 0, 1]
    assert rerank(scores, colours, burgundy, bonus=0.16) == [1, 2, 0]  # ungated
    # a likely jumpsuit gets half the bonus (0.70 + 0.08 < 0.79)
    assert rerank([0.79, 0.70], ["black", "burgundy"], burgundy, bonus=0.16,
                  categories=["dress", "jumpsuit"], guess=guess) == [0, 1]


def test_an_unsure_reading_favours_each_likely_colour_by_its_probability():
    unsure = ColourReading("navy", None, 0.5, 0.4, "encoder+pixels",
                           {"navy": 0.5, "black": 0.4, "grey": 0.1})
    assert colour_bonus("navy", unsure) > colour_bonus("black", unsure) > \
        colour_bonus("grey", unsure) > colour_bonus("red", unsure) == 0.0
    # a black item a little less similar than a red one overtakes it; a grey one does not
    assert rerank([0.90, 0.88, 0.88], ["red", "black", "grey"], unsure) == [1, 0, 2]
    assert colour_bonus(None, unsure) == 0.0


def test_a_torn_reading_names_its_runner_up_in_what_the_photo_was_read_as():
    from core.search.pipeline import SearchOutcome

    torn = ColourReading("navy", None, 0.5, 0.4, "encoder+pixels",
                         {"navy": 0.5, "black": 0.4, "grey": 0.1})
    sure = ColourReading("navy", "white", 0.9, 0.6, "encoder+pixels",
                         {"navy": 0.9, "white": 0.05, "black": 0.05})
    assert torn.runner_up() == "black" and sure.runner_up() is None
    assert READ_RED.runner_up() is None  # the rule-based reader has no distribution
    outcome = SearchOutcome(results=[], model_id="m", colour=torn, pattern="solid")
    assert outcome.read_as() == "navy (or black), solid"
    assert SearchOutcome(results=[], model_id="m", colour=sure).read_as() == "navy and white"


def test_search_colour_match_counts_plain_and_ranked_and_what_ranking_costs(tmp_path):
    results = [SimpleNamespace(score=s, item=SimpleNamespace(attrs={"color": c}, category=k))
               for s, c, k in ((0.9, "blue", "dress"), (0.895, "blue", "dress"),
                               (0.89, "red", "skirt"), (0.5, "red", "dress"))]
    engine = SimpleNamespace(search_image=lambda repo, path, k, colour_rank: SimpleNamespace(
        results=results, colour=READ_RED, category_guess=None))
    photo = LabelledPhoto(tmp_path / "dress" / "x.jpg", "red", None, False)
    match = search_colour_match(engine, None, [photo], k=1, bonuses=(0.0, 0.05))
    assert match == {0.0: {"colour": 0.0, "class": 1.0}, 0.05: {"colour": 1.0, "class": 0.0}}
    # the photo looks like a dress: the red skirt gets no bonus, a red dress would
    engine.search_image = lambda repo, path, k, colour_rank: SimpleNamespace(
        results=results, colour=READ_RED, category_guess=[("dress", 0.9), ("skirt", 0.0)])
    match = search_colour_match(engine, None, [photo], k=1, bonuses=(0.05,))
    assert match == {0.05: {"colour": 0.0, "class": 1.0}}


def test_eval_colour_reads_the_train_split_with_development_labels(folder, capsys):
    data, labels = folder
    (data / "validation").rename(data / "train")
    (data / "validation").mkdir()  # an empty report split must not be read
    assert main(["eval", "colour", "--data", str(data), "--split", "train", "--labels",
                 str(labels), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["split"] == "train" and out["photos"] == 4
    assert out["data"].endswith("train")


def test_eval_colour_rejects_an_unknown_split(folder, capsys):
    data, labels = folder
    assert main(["eval", "colour", "--data", str(data), "--split", "test", "--labels",
                 str(labels)]) == 2
    assert "unknown split" in capsys.readouterr().err


class _Heads:
    """Stands in for the encoder: reads every photo as a tee, striped, at 0.6 confidence."""

    model_id = "fake"
    reads_photo_colour = False

    def predict_attrs(self, images):
        return [{"category": ("tee", 0.9), "pattern": ("striped", 0.6)} for _ in images]


def test_eval_tags_scores_each_field_by_confidence(folder):
    from core.tagging.quality import eval_tags

    data, labels = folder
    out = eval_tags(_Heads(), data, labels)
    assert out["photos"] == 4 and out["model"] == "fake"
    # the photos sit in dress/ and shirt/ folders: a tee is right for neither
    assert out["category"]["accuracy"] == 0.0
    # no colour head, no pixel classifier: tags read colour as eval colour's reader does
    assert out["color"]["accuracy"] == out["color_reader"]["accuracy"] == 0.25
    assert out["color_head"] == {} and out["color_pixels"] == {}
    pattern = out["pattern"]
    assert pattern["accuracy"] == 0.0 and pattern["majority_baseline"] == {
        "answer": "solid", "accuracy": 1.0}
    rows = {r["min_confidence"]: r for r in pattern["by_confidence"]}
    assert rows[0.5]["coverage"] == 1.0 and rows[0.7] == {
        "min_confidence": 0.7, "coverage": 0.0, "accuracy": None}
    assert out["sleeve"] == {}  # dresses and shirts: their folders say nothing of sleeves


def test_sleeves_are_scored_against_what_the_class_folder_says():
    from pathlib import Path

    from core.tagging.evaluate import LabelledPhoto
    from core.tagging.quality import field_figures, truth_of

    photos = [LabelledPhoto(Path(f"/v/{cls}/a.jpg"), "red", None, False, "solid")
              for cls in ("t-shirt", "longsleeve", "outwear", "dress")]
    assert [truth_of(p, "sleeve") for p in photos] == ["short", "long", "long", None]
    reads = [{"sleeve": ("short", 0.9)}, {"sleeve": ("short", 0.6)}, {"sleeve": ("long", 0.8)},
             {"sleeve": ("long", 0.9)}]
    out = field_figures(photos, reads, "sleeve")
    assert out["photos"] == 3 and out["accuracy"] == round(2 / 3, 4)
    rows = {r["min_confidence"]: r for r in out["by_confidence"]}
    assert rows[0.7] == {"min_confidence": 0.7, "coverage": round(2 / 3, 4), "accuracy": 1.0}


def test_search_colour_match_ranks_by_the_readings_it_is_given(tmp_path):
    results = [SimpleNamespace(score=s, item=SimpleNamespace(attrs={"color": c}, category="dress"))
               for s, c in ((0.9, "red"), (0.89, "blue"))]
    engine = SimpleNamespace(search_image=lambda repo, path, k, colour_rank: SimpleNamespace(
        results=results, colour=READ_RED, category_guess=None))
    photo = LabelledPhoto(tmp_path / "dress" / "x.jpg", "blue", None, False)
    read_blue = ColourReading("blue", None, 0.9, 0.0, "pixels", {"blue": 0.9, "red": 0.1})
    assert search_colour_match(engine, None, [photo], k=1, bonuses=(0.1,))[0.1]["colour"] == 0.0
    got = search_colour_match(engine, None, [photo], k=1, bonuses=(0.1,), readings=[read_blue])
    assert got[0.1]["colour"] == 1.0
    # read blue but nearly as likely red: the distribution keeps the closer red item first,
    # the read colour alone lifts the blue one over it
    farther_blue = [SimpleNamespace(score=s, item=SimpleNamespace(attrs={"color": c},
                                                                  category="dress"))
                    for s, c in ((0.90, "red"), (0.85, "blue"))]
    engine.search_image = lambda repo, path, k, colour_rank: SimpleNamespace(
        results=farther_blue, colour=None, category_guess=None)
    unsure = ColourReading("blue", None, 0.5, 0.0, "pixels", {"blue": 0.5, "red": 0.45})
    as_dist = search_colour_match(engine, None, [photo], k=1, bonuses=(0.2,), readings=[unsure])
    alone = search_colour_match(engine, None, [photo], k=1, bonuses=(0.2,), readings=[unsure],
                                read_colour_only=True)
    assert as_dist[0.2]["colour"] == 0.0 and alone[0.2]["colour"] == 1.0


def test_out_of_fold_readings_read_each_photo_with_a_model_fitted_without_it(tmp_path):
    from core.tagging.evaluate import out_of_fold_readings

    photos, rng = [], np.random.default_rng(0)
    for colour in ("red", "navy", "white"):
        for i in range(4):
            arr = np.full((48, 40, 3), (150, 150, 150), dtype=np.uint8)
            rgb = np.clip(np.array(COLORS[colour].rgb) + rng.integers(-12, 13, 3), 0, 255)
            arr[8:44, 8:32] = rgb
            path = tmp_path / f"{colour}{i}.png"
            Image.fromarray(arr).save(path)
            photos.append(LabelledPhoto(path, colour, None, False))
    readings = out_of_fold_readings(photos, folds=2)
    assert len(readings) == len(photos) and all(r.dist for r in readings)
    assert sum(r.name == p.color for p, r in zip(photos, readings, strict=True)) >= 10
    assert all(r.dist[r.name] == max(r.dist.values()) for r in readings)
    with pytest.raises(ValueError, match="two labelled photos of each colour"):
        out_of_fold_readings(photos[:5])  # red x4 and a single navy


@pytest.mark.parametrize("extra, message", [
    (["--bonuses", "0.1"], "give --demo"),
    (["--out-of-fold"], "give --demo"),
    (["--bonuses", "0.1,x", "--demo", "."], "numbers separated by commas"),
    (["--bonuses", "-0.1", "--demo", "."], "cannot be negative"),
    (["--read-colour-only"], "give --demo"),
])
def test_eval_colour_refuses_sweep_options_it_cannot_honour(folder, capsys, extra, message):
    data, labels = folder
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels), *extra]) == 2
    assert message in capsys.readouterr().err


def test_a_reading_lists_every_palette_colour_likeliest_first_and_a_stated_one_is_certain():
    from core.search.pipeline import SearchOutcome
    from core.tagging.colour import PALETTE

    torn = ColourReading("navy", None, 0.5, 0.4, "encoder+pixels",
                         {"navy": 0.5, "black": 0.4, "grey": 0.1})
    order = torn.choices()
    assert order[:3] == ["navy", "black", "grey"] and sorted(order) == sorted(PALETTE)
    assert READ_RED.choices()[0] == "red" and len(READ_RED.choices()) == len(PALETTE)
    black = ColourReading.stated("black")
    assert black.probability("black") == 1.0 and black.probability("navy") == 0.0
    with pytest.raises(ValueError, match="unknown colour 'teal'"):
        ColourReading.stated("teal")
    outcome = SearchOutcome(results=[], model_id="m", colour=torn)
    assert outcome.ranking_colour() is torn
    outcome.colour_choice = "black"
    assert outcome.ranking_colour() == black
    # the shopper's black overtakes a more similar navy item the reading preferred
    assert rerank([0.90, 0.85], ["navy", "black"], torn) == [0, 1]
    assert rerank([0.90, 0.85], ["navy", "black"], outcome.ranking_colour()) == [1, 0]


def _second_labelling(data, labels: dict) -> str:
    path = data / "second.json"
    path.write_text(json.dumps({"palette": list(COLORS), "labels": labels}))
    return str(path)


def test_eval_colour_measures_only_the_photos_two_labellings_name_alike(folder, capsys):
    data, labels = folder
    second = _second_labelling(data, {
        "dress/a.png": {"color": "red", "alt": None},  # alike
        "dress/b.png": {"color": "navy", "alt": "blue"},  # differs; the first's is the alt
        "shirt/c.png": {"color": "yellow", "alt": None},  # alike
        "shirt/d.png": {"color": None, "skip": True},  # only the first named it
        "shirt/e.png": {"color": "black", "alt": None}})  # only the second named it
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels),
                 "--agreed-with", second, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    agreement = out["agreement"]
    assert agreement["photos"] == 3 and agreement["agreed"] == 2
    assert agreement["exact"] == round(2 / 3, 4) and agreement["within_alt"] == 1.0
    assert agreement["one_left_out"] == 2
    assert agreement["disagreements"] == [{"first": "blue", "second": "navy", "photos": 1}]
    assert out["photos"] == 2 and out["left_out"]["labellings_differ"] == 2
    assert out["reader"]["all"]["strict"] == 0.5  # red read red, green read for yellow
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels),
                 "--agreed-with", second]) == 0
    assert "the same colour for 0.667 (1.000 counting" in capsys.readouterr().out


def test_eval_colour_refuses_a_missing_or_unrelated_second_labelling(folder, capsys):
    data, labels = folder
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels),
                 "--agreed-with", str(data / "absent.json")]) == 2
    assert "--agreed-with" in capsys.readouterr().err
    other = _second_labelling(data, {"dress/zzz.png": {"color": "red"}})
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels),
                 "--agreed-with", other]) == 2
    assert "no photo in common" in capsys.readouterr().err
    (data / "second.json").write_text("{}")
    assert main(["eval", "colour", "--data", str(data), "--labels", str(labels),
                 "--agreed-with", str(data / "second.json")]) == 2
    assert "not a colour labels file" in capsys.readouterr().err


def test_search_colour_match_hands_back_the_readings_it_ranked_by(tmp_path):
    results = [SimpleNamespace(score=0.9, item=SimpleNamespace(attrs={"color": "red"},
                                                               category="dress"))]
    engine = SimpleNamespace(search_image=lambda repo, path, k, colour_rank: SimpleNamespace(
        results=results, colour=READ_RED, category_guess=None))
    photo = LabelledPhoto(tmp_path / "dress" / "x.jpg", "red", None, False)
    used = []
    search_colour_match(engine, None, [photo, photo], k=1, used=used)
    assert used == [READ_RED, READ_RED]


def test_eval_colour_with_a_search_reports_the_share_and_how_often_its_reading_is_right(folder):
    from core.tagging.evaluate import eval_colour

    data, labels = folder
    results = [SimpleNamespace(score=s, item=SimpleNamespace(attrs={"color": c}, category="dress"))
               for s, c in ((0.9, "blue"), (0.85, "red"))]
    engine = SimpleNamespace(model_id="fake", search_image=lambda repo, path, k, colour_rank:
                             SimpleNamespace(results=results, colour=READ_RED, category_guess=None))
    repo = SimpleNamespace(count_items=lambda: 2)
    out = eval_colour(data, labels, engine=engine, repo=repo, k=1, bonuses=(0.3,))
    search = out["search"]
    assert search["reading_strict"] == 0.25  # read red; one of the four labelled photos is red
    assert search["plain"] == 0.25 and search["colour_ranked"] == 0.25  # b is blue; a is red
    sweep = {row["bonus"]: row["colour"] for row in search["sweep"]}
    assert set(sweep) == {0.0, 0.16, 0.3} and sweep[0.0] == 0.25
    assert search["catalog_items"] == 2 and search["ranked_by"] == "the search's reading"


def test_a_swatch_shows_the_palette_colour_and_swatches_name_each():
    from core.tagging.labels import swatch, swatches

    assert "background:rgb(30, 42, 92)" in swatch("navy")
    assert "background:rgb(200, 200, 200)" in swatch("teal")  # outside the palette: grey
    both = swatches(["navy", "red"])
    assert both.count("<span") == 2 and both.endswith("&nbsp;red") and "&nbsp;navy" in both
