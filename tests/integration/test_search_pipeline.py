"""The query pipeline end to end on the embedded server with a tiny random-init studio encoder."""

from __future__ import annotations

import pytest
import torch

from core.images import ImageRejected
from core.models.embed import Embedder, embed_catalog
from core.models.preprocess import PreprocessCfg
from core.search.filters import filter_key
from core.search.pipeline import SearchEngine
from core.storage import FilterError, Range
from tests.fixtures_bad import REJECTED, bad_image_files


def tiny_embedder(settings, mask: bool = False) -> Embedder:
    torch.manual_seed(0)  # a fixed random-init model: the same embeddings on every run
    return Embedder("studio_encoder", settings, mask=mask, weights=None, widths=(8, 8, 16, 16),
                    blocks=(1, 1, 1, 1), preprocess=PreprocessCfg(size=32))


class FixedClassifier:
    """Stands in for the trained classifier: always predicts the given categories."""

    def __init__(self, *pred):
        self.pred = list(pred)

    def predict_categories(self, images, k=3):
        return [self.pred[:k] for _ in images]


def distinct_catalog(settings, small_catalog, n: int) -> None:
    """The shared small catalog, with a mark per picture so that no two images are equal."""
    from PIL import Image, ImageDraw

    small_catalog(n)
    for i in range(n):
        path = settings.data_dir / "images" / f"t{i:03d}.jpg"
        img = Image.open(path).convert("RGB")
        ImageDraw.Draw(img).rectangle([2 + 4 * i, 2, 5 + 4 * i, 9], fill=(0, 0, 0))
        img.save(path, quality=90)


def _ranks_first(outcome, sku: str) -> bool:
    """sku holds the best score (a random-init test model may tie near-identical pictures)."""
    scores = {r.item.sku: r.score for r in outcome.results}
    return sku in scores and scores[sku] >= outcome.results[0].score - 1e-4


@pytest.fixture
def engine(repo, settings, small_catalog):
    distinct_catalog(settings, small_catalog, 12)
    emb = tiny_embedder(settings)
    assert embed_catalog(repo, settings, "studio_encoder", embedder=emb, workers=0) == 12
    return SearchEngine(settings, embedder=emb, classifier=FixedClassifier(("tee", 0.7),
                                                                           ("dress", 0.2)))


def _image(settings, sku_index: int):
    return settings.data_dir / "images" / f"t{sku_index:03d}.jpg"


def test_catalog_photo_finds_itself_first(repo, settings, engine):
    out = engine.search_image(repo, _image(settings, 3), k=5)
    assert _ranks_first(out, "T003")
    assert out.results[0].score == pytest.approx(1.0, abs=1e-4)
    assert len(out.results) == 5 and out.model_id == "studio_encoder"
    js = next(r for r in out.results if r.item.sku == "T003").to_json(settings.data_dir)
    assert set(js) == {"id", "score", "category", "attrs", "image"}
    assert js["image"] == str(_image(settings, 3)) and js["attrs"]["color"] == "green"
    assert {"decode", "embed", "search", "fetch", "total"} <= set(out.timings_ms)


def test_bytes_upload_and_filters_narrow(repo, settings, engine):
    data = _image(settings, 0).read_bytes()
    red = engine.search_image(repo, data, name="upload.jpg", k=10, filters={"color": "red"})
    assert red.results and all(r.item.attrs["color"] == "red" for r in red.results)
    assert red.candidates == 3
    both = engine.search_image(repo, data, k=10,
                               filters={"color": ["red", "navy"], "category": "dress",
                                        "price": Range(20, 30)})
    got = {(r.item.attrs["color"], r.item.category) for r in both.results}
    assert got and got <= {("red", "dress"), ("navy", "dress")}
    assert all(20 <= r.item.price <= 30 for r in both.results)
    none = engine.search_image(repo, data, k=10, filters={"color": "purple"})
    assert none.results == [] and none.candidates == 0


@pytest.mark.parametrize("bad", [{"color": {"$gt": ""}}, {"$where": "1"}, {"price": {"$ne": 1}},
                                 {"color": [{"$gt": ""}]}, {"attrs.$x": 1}])
def test_filters_reject_operator_injection(repo, settings, engine, bad):
    with pytest.raises(FilterError):
        engine.search_image(repo, _image(settings, 0), filters=bad)
    with pytest.raises(FilterError):
        filter_key(bad)


def test_filter_key_is_canonical():
    assert filter_key({"color": ["b", "a"], "price": Range(1, 2)}) == filter_key(
        {"price": Range(1, 2), "color": ["a", "b"]})


def test_category_aware_restricts_and_reports(repo, settings, engine):
    out = engine.search_image(repo, _image(settings, 0), k=10, category_aware=True)
    assert out.prediction == [("tee", 0.7), ("dress", 0.2)]
    assert out.restricted_to == "tee"
    assert out.results and all(r.item.category == "tee" for r in out.results)
    user = engine.search_image(repo, _image(settings, 0), k=10, category_aware=True,
                               filters={"category": "skirt"})
    assert user.restricted_to is None and all(r.item.category == "skirt" for r in user.results)
    assert "prediction is shown" in user.notes[0]


def test_category_aware_falls_back_when_category_empty(repo, settings, small_catalog):
    small_catalog(4)
    emb = tiny_embedder(settings)
    embed_catalog(repo, settings, "studio_encoder", embedder=emb, workers=0)
    eng = SearchEngine(settings, embedder=emb, classifier=FixedClassifier(("hat", 0.9)))
    out = eng.search_image(repo, _image(settings, 1), k=3, category_aware=True)
    assert out.restricted_to is None and len(out.results) == 3
    assert "no hat items" in out.notes[0]


def test_real_tiny_classifier_runs(repo, settings, engine):
    real = SearchEngine(settings, embedder=engine.embedder)
    assert real.classifier is engine.embedder  # the studio encoder classifies itself
    out = real.search_image(repo, _image(settings, 2), k=3, category_aware=True)
    assert out.prediction and 0 <= out.prediction[0][1] <= 1


def test_more_like_this_excludes_item(repo, settings, engine):
    out = engine.more_like_this(repo, "T005", k=4)
    skus = [r.item.sku for r in out.results]
    assert "T005" not in skus and len(skus) == 4
    with pytest.raises(KeyError):
        engine.more_like_this(repo, "NOPE")


def test_masking_shows_and_uses_masked_query(repo, settings, small_catalog):
    distinct_catalog(settings, small_catalog, 6)
    emb = tiny_embedder(settings, mask=True)
    embed_catalog(repo, settings, "studio_encoder", mask=True, embedder=emb, workers=0)
    eng = SearchEngine(settings, mask=True, embedder=emb)
    out = eng.search_image(repo, _image(settings, 0), k=3)  # red garment on near-white
    assert out.model_id == "studio_encoder+mask" and out.masked_image is not None
    assert out.masked_image.getpixel((0, 0)) == (255, 255, 255)
    assert out.query_image.getpixel((0, 0)) != (255, 255, 255)
    assert _ranks_first(out, "T000")


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_bad_uploads_are_rejected_with_reason(repo, settings, engine, name):
    with pytest.raises(ImageRejected) as exc:
        engine.search_image(repo, bad_image_files()[name], name=name)
    assert REJECTED[name] in str(exc.value) and name in str(exc.value)


def test_top_categories_counts_and_reports_rejects(settings):
    eng = SearchEngine(settings, embedder=tiny_embedder(settings),
                       classifier=FixedClassifier(("tee", 0.6), ("top", 0.3), ("tank", 0.1)))
    files = bad_image_files()
    photos = [("a.jpg", files["plain.jpg"]), ("b.png", files["palette.png"]),
              ("zero.jpg", files["zero.jpg"])]
    counted = eng.top_categories(photos, k=3)
    assert counted.top == [("tee", 2)]
    assert [n for n, _ in counted.per_image] == ["a.jpg", "b.png"]
    assert counted.rejected == ["zero.jpg: empty file (0 bytes)"]
    assert counted.to_json()["top"] == [{"category": "tee", "count": 2}]


def test_selection_filters_and_facets(repo, settings, engine):
    from core.search.filters import selection_filters

    assert selection_filters(categories=[], price=(20.0, 31.0), price_bounds=(20.0, 31.0)) == {}
    spec = selection_filters(categories=["tee"], colors=["red"], price=(21.0, 25.0),
                             price_bounds=(20.0, 31.0))
    assert spec == {"category": ["tee"], "color": ["red"], "price": Range(21.0, 25.0)}
    facets = engine.facets(repo)
    assert set(facets["category"]) == {"dress", "tee", "skirt", "jacket"}
    assert facets["color"] == ["green", "navy", "red", "white", "yellow"]
    assert facets["price"] == (20.0, 31.0) and facets["season"] == ["summer"]
    assert engine.facets(repo) is facets  # cached until the catalog changes
    repo.bump_catalog_version()
    assert engine.facets(repo) is not facets


def test_exact_item_mode_reweights_the_query_against_the_same_vectors(repo, settings, engine):
    import numpy as np
    from PIL import Image

    from core.models.embed import MatchUnavailable

    with pytest.raises(MatchUnavailable, match="no exact-item mode.*train tune"):
        engine.search_image(repo, _image(settings, 3), k=5, match="item")
    assert not engine.can_match_item
    model = engine.embedder.model
    model.item_weights = (0.1, 0.1, 0.8)
    assert engine.can_match_item
    out = engine.search_image(repo, _image(settings, 3), k=12, match="item")
    assert out.match == "item" and _ranks_first(out, "T003")
    assert out.results[0].score == pytest.approx(1.0, abs=1e-4)  # the weighted cosine
    # Every score is sum(w_i cos_i) of the query's and the item's chunks.
    x = engine.embedder.prepare([out.query_image])
    with torch.inference_mode():
        q = model.unit_chunks(model.view_features(x))
        for r in out.results[:4]:
            stored = Image.open(settings.data_dir / r.item.image_path).convert("RGB")
            g = model.unit_chunks(model.view_features(engine.embedder.prepare([stored])))
            expected = sum(w * float(a @ b.T) for w, a, b in zip(model.item_weights, q, g,
                                                                 strict=True))
            assert r.score == pytest.approx(expected, abs=2e-3)
    similar = engine.search_image(repo, _image(settings, 3), k=12)
    assert {r.item.sku for r in similar.results} == {r.item.sku for r in out.results}
    assert not np.allclose([r.score for r in similar.results], [r.score for r in out.results])
    with pytest.raises(MatchUnavailable, match="unknown match mode"):
        engine.search_image(repo, _image(settings, 3), match="twin")


def test_a_colour_the_shopper_names_leads_the_ranking_instead_of_the_reading(repo, settings,
                                                                            engine):
    photo = _image(settings, 0)
    plain = engine.search_image(repo, photo, k=12, colour_rank=False)
    read = plain.colour.name
    chosen = next(c for c in ("red", "navy", "green", "white", "black") if c != read)
    out = engine.search_image(repo, photo, k=12, colour=chosen)
    assert out.colour_choice == chosen and out.colour.name == read  # the reading stays shown
    assert out.to_json()["colour_choice"] == chosen
    best = plain.results[0].score
    # the bonus goes to items that could be the photo's kind of garment (category weight)
    from core.tagging.colour_rank import COLOUR_BONUS, category_weight

    of_chosen = [r.score + COLOUR_BONUS * category_weight(r.item.category, out.category_guess)
                 for r in plain.results if r.item.attrs.get("color") == chosen]
    if of_chosen and max(of_chosen) > best + 1e-6:
        assert out.results[0].item.attrs["color"] == chosen
    # naming the read colour keeps the reading, distribution and all
    same = engine.search_image(repo, photo, k=12, colour=read)
    assert same.colour_choice is None
    assert [r.item.sku for r in same.results] == [
        r.item.sku for r in engine.search_image(repo, photo, k=12).results]
    with pytest.raises(ValueError, match="unknown colour 'teal'"):
        engine.search_image(repo, photo, colour="teal")
