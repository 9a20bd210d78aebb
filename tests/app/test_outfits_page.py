"""AppTest of the Outfits page: build a look (catalog grid, photos, the Search pick), score it
(metric, a verdict naming the clash and its reason, pair heatmap), correct a photo's category,
remove pieces, complete the look, load held-out examples and hand-overs without silently
replacing the look."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.outfits.model import CompatConfig, CompatNet, save_compat
from core.outfits.service import Stylist

DIM = 16
# small_catalog's categories cycle dress, tee, skirt, jacket: T001 tee, T002 skirt, T000 dress
TEE, SKIRT, DRESS, JACKET = "T001", "T002", "T000", "T003"
SHOES = ["S000", "S001", "S002"]
SAMPLE = [TEE, SKIRT, DRESS, JACKET, "T004", "T005", "T006", "T007", "T008", "S000"]


def _shoes(repo, data_dir, n: int) -> list:
    """n sneakers with pictures (small_catalog has no shoes)."""
    from PIL import Image, ImageDraw

    from core.storage import Item

    items = []
    for i in range(n):
        img = Image.new("RGB", (64, 64), (250, 250, 250))
        ImageDraw.Draw(img).ellipse([8, 30 + i, 56, 50], fill=(20 + 60 * i, 30, 90))
        img.save(data_dir / "images" / f"s{i:03d}.jpg", quality=90)
        items.append(Item(sku=f"S{i:03d}", image_path=f"images/s{i:03d}.jpg", hash=f"shoe{i:03d}",
                          category="sneakers", name=f"sneakers {i}",
                          attrs={"color": "navy", "pattern": "solid", "season": "summer"},
                          price=50.0 + i, split="test", source="test"))
    repo.upsert_items(items)
    return items


def _compat(settings, bias: float | None = None) -> None:
    """A tiny untrained outfit model; with ``bias`` its output is pushed there (a large negative
    bias: every pair clashes)."""
    torch.manual_seed(0)
    model = CompatNet(CompatConfig(img_dim=DIM)).eval()
    if bias is not None:
        with torch.no_grad():
            model.head[-1].bias.fill_(bias)
    save_compat(settings.weights_dir / "compat.pt", model)


@pytest.fixture
def seeded(app_env, repo, small_catalog):
    """12 garments + 3 sneakers with random 16-d vectors, a tiny (untrained) outfit model and
    two held-out outfits of the data set (one compatible, one broken)."""
    items = small_catalog(12) + _shoes(repo, app_env.data_dir, 3)
    rng = np.random.default_rng(0)
    repo.put_vectors("studio_encoder", [it.sku for it in items],
                     rng.normal(size=(len(items), DIM)).astype(np.float32))
    _compat(app_env)
    repo.put_docs("outfits", [
        {"outfit_id": "O00001", "items": [TEE, SKIRT, "S000"], "compatible": True,
         "rule": "navy and white are an easy match", "style": "casual", "split": "test"},
        {"outfit_id": "O00002", "items": ["T005", "T006", "S001"], "compatible": False,
         "rule": "clashing colours: red with green", "style": "casual", "split": "test"},
        {"outfit_id": "O00003", "items": ["T007", "T008"], "compatible": True,
         "rule": "training outfit", "style": "casual", "split": "train"},
    ], key="outfit_id")
    return app_env


def _open(app_test, **state):
    at = app_test("outfits.py")
    at.session_state["outfits_sample"] = SAMPLE  # the catalog grid, in a known order
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _click(at, key: str):
    at.button(key=key).click()
    return at.run()


def _add(at, sku: str):
    return _click(at, f"outfits_pick-{sku}-{SAMPLE.index(sku)}")


def _look(at) -> list[str]:
    return [e.get("sku") or e["name"] for e in at.session_state["outfits_look"]["entries"]]


def _score(at) -> str:
    return next(m.value for m in at.metric if m.label == "Outfit score")


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_empty_catalog_explains(app_test):
    at = app_test("outfits.py").run()
    assert not at.exception, at.exception
    assert any("catalog is empty" in i.value for i in at.info)


def test_without_weights_says_how_to_train(app_test, app_env, small_catalog):
    small_catalog(4)
    at = app_test("outfits.py").run()
    assert not at.exception
    assert any("python -m core train compat" in e.value for e in at.error)
    assert not at.button  # stopped before the look builder


def test_without_vectors_says_to_embed(app_test, app_env, small_catalog):
    small_catalog(4)
    _compat(app_env)
    at = app_test("outfits.py").run()
    assert not at.exception
    assert any("python -m core embed" in e.value for e in at.error)


def test_two_catalog_pieces_are_scored_with_a_pair_heatmap(app_test, seeded, repo):
    at = _open(app_test)
    assert not at.exception, at.exception
    assert any("Your look is empty" in i.value for i in at.info)
    assert len([b for b in at.button if b.label == "Add to look"]) == 10
    at = _add(at, TEE)
    assert _look(at) == [TEE]
    assert _score(at) == "—"  # one piece: nothing to score yet
    assert any("Add a second piece" in i.value for i in at.info)
    at = _add(at, SKIRT)
    assert not at.exception, at.exception
    assert _look(at) == [TEE, SKIRT]
    stylist = Stylist(seeded)
    expected = stylist.score([stylist.item_piece(repo, TEE), stylist.item_piece(repo, SKIRT)])
    assert _score(at) == f"{expected.score:.0%}"
    (verdict,) = [a.value for a in (*at.success, *at.warning, *at.error)
                  if a.value.startswith(("These ", "Not quite"))]
    assert verdict == replace(expected, missing=[]).verdict()
    assert "missing" not in verdict  # said once, in the info below
    assert any("still needs: **shoes**" in i.value for i in at.info)
    (fig,) = _charts(at)
    heat = fig["data"][0]
    assert heat["type"] == "heatmap"
    assert heat["x"] == heat["y"] == ["1. navy tee", "2. white skirt"]
    assert heat["z"][0][1] == pytest.approx(expected.pairs[0, 1])
    assert "Added white skirt (T002) to your look." in [t.value for t in at.toast]


def test_remove_a_piece_and_clear_the_look(app_test, seeded):
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (TEE, SKIRT, DRESS)])
    assert len(_charts(at)) == 1
    at = _click(at, f"outfits_remove_1_{SKIRT}")
    assert not at.exception
    assert _look(at) == [TEE, DRESS]
    assert _charts(at)[0]["data"][0]["x"] == ["1. navy tee", "2. red dress"]
    at = _click(at, f"outfits_remove_0_{TEE}")
    assert _look(at) == [DRESS]
    assert _score(at) == "—" and not _charts(at)
    at = _click(at, "outfits_clear")
    assert _look(at) == []
    assert any("Your look is empty" in i.value for i in at.info)


def test_completes_a_look_without_shoes(app_test, seeded):
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (TEE, SKIRT)])
    labels = [m.value for m in at.markdown]
    assert "**Shoes · missing**" in labels and "**Outerwear**" in labels
    assert labels.index("**Shoes · missing**") < labels.index("**Outerwear**")  # missing first
    shoe_buttons = [b for b in at.button if b.key.startswith("outfits_fill_shoes-")]
    assert sorted(b.key.split("-")[1] for b in shoe_buttons) == SHOES  # 3 < k=4: all of them
    at.slider(key="outfits_k").set_value(2)
    at.run()
    shoe_buttons = [b for b in at.button if b.key.startswith("outfits_fill_shoes-")]
    assert len(shoe_buttons) == 2
    best = shoe_buttons[0].key.split("-")[1]
    shoe_buttons[0].click()
    at.run()
    assert not at.exception, at.exception
    assert _look(at) == [TEE, SKIRT, best]  # the look grew and was re-scored
    assert not any("still needs" in i.value for i in at.info)
    assert "**Shoes · missing**" not in [m.value for m in at.markdown]
    assert _charts(at)[0]["data"][0]["x"][2] == "3. navy sneakers"


def test_suggestions_follow_whom_the_look_is_for(app_test, seeded, repo):
    for sku, gender in ((TEE, "women"), (SKIRT, "women"), ("S000", "men"), ("S001", "women"),
                        ("S002", "unisex")):
        repo.update_item_fields(sku, {"gender": gender})
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (TEE, SKIRT)])

    def shoes(at) -> list[str]:
        return sorted(b.key.split("-")[1] for b in at.button
                      if b.key.startswith("outfits_fill_shoes-"))

    assert shoes(at) == ["S001", "S002"]  # a women's look: women's and unisex shoes
    assert any("for women (and unisex)" in c.value for c in at.caption)
    at.selectbox(key="outfits_for").set_value("Men")
    assert shoes(at.run()) == ["S000", "S002"]
    at.selectbox(key="outfits_for").set_value("Anyone")
    assert shoes(at.run()) == SHOES


def test_a_look_holds_six_pieces(app_test, seeded):
    full = [{"kind": "item", "sku": s} for s in (TEE, SKIRT, DRESS, JACKET, "T004", "T005")]
    at = _open(app_test, outfits_look=full)
    assert any("Your look is full" in i.value for i in at.info)
    at = _add(at, "S000")
    assert not at.exception
    assert len(_look(at)) == 6 and "S000" not in _look(at)
    assert any("at most 6 pieces" in w.value for w in at.warning)


def test_corrupt_upload_is_named_and_changes_nothing(app_test, seeded):
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": TEE}])
    at.file_uploader(key="outfits_upload_0").set_value(("x.jpg", b"not an image", "image/jpeg"))
    at.run()
    at = _click(at, "outfits_add_photos")
    assert not at.exception, at.exception
    assert any("Could not use x.jpg" in e.value for e in at.error)
    assert _look(at) == [TEE]


def test_photo_becomes_a_piece(app_test, seeded):
    from core.models.studio import new_encoder, save_checkpoint

    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1), embed_dim=DIM),
                    seeded.weights_dir / "studio_encoder.pt")
    photo = (seeded.data_dir / "images" / "t003.jpg").read_bytes()
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": TEE}])
    at.file_uploader(key="outfits_upload_0").set_value(("mine.jpg", photo, "image/jpeg"))
    at.run()
    at = _click(at, "outfits_add_photos")
    assert not at.exception, at.exception
    assert _look(at) == [TEE, "mine.jpg"]
    assert at.session_state["outfits_upload_n"] == 1  # a fresh, empty uploader
    assert _score(at).endswith("%")
    assert _charts(at)[0]["data"][0]["x"][1].startswith("2. mine.jpg")
    assert not [e for e in at.error if "Could not" in e.value or "need" in e.value]


def test_adds_the_item_chosen_on_search(app_test, seeded):
    at = _open(app_test, search_selected_sku="T005")
    at = _click(at, "outfits_from_search")
    assert not at.exception
    assert _look(at) == ["T005"]
    assert not [b for b in at.button if b.key == "outfits_from_search"]  # already in the look


def test_examples_show_the_model_and_load_into_the_look(app_test, seeded, repo):
    at = _open(app_test)
    loads = [b for b in at.button if b.label == "Load into my look"]
    assert sorted(b.key for b in loads) == ["outfits_load_O00001", "outfits_load_O00002"]
    says = "The data set says: **"
    assert any(f"{says}goes together**, navy and white" in s.value for s in at.success)
    assert any(f"{says}does not go together**, clashing colours" in e.value for e in at.error)
    stylist = Stylist(seeded)
    broken = stylist.score([stylist.item_piece(repo, s) for s in ("T005", "T006", "S001")])
    assert f"{broken.score:.0%}" in [m.value for m in at.metric if m.label == "Model score"]
    at = _click(at, "outfits_load_O00002")
    assert not at.exception, at.exception
    assert _look(at) == ["T005", "T006", "S001"]
    assert _score(at) == f"{broken.score:.0%}"


def test_a_photo_can_say_its_season_and_whom_it_is_for(app_test, seeded, repo):
    """With a model that reads the catalog's facts, a photo's season and gender can be stated
    under its picture: the look is re-scored and suggestions follow the stated gender."""
    from core.outfits.features import HIST_DIM, META_DIM

    torch.manual_seed(0)
    save_compat(seeded.weights_dir / "compat.pt",
                CompatNet(CompatConfig(img_dim=DIM, meta_dim=META_DIM)).eval())
    for sku, gender in (("S000", "men"), ("S001", "women"), ("S002", "unisex")):
        repo.update_item_fields(sku, {"gender": gender})
    photo = {"kind": "photo", "digest": "d1", "name": "mine.jpg", "category": "tee",
             "bytes": (seeded.data_dir / "images" / "t003.jpg").read_bytes(),
             "vector": np.random.default_rng(1).normal(size=DIM).tolist(),
             "side": [1 / 8] * HIST_DIM + [0.0] * META_DIM, "label": "mine.jpg"}
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": SKIRT}, photo])
    assert not at.exception, at.exception
    before = _charts(at)[0]["data"][0]["z"]  # the pair heatmap's probabilities
    shoes = sorted(b.key.split("-")[1] for b in at.button
                   if b.key.startswith("outfits_fill_shoes-"))
    assert shoes == SHOES  # nobody said whom the look is for
    at.selectbox(key="outfits_season_d1").set_value("Winter")
    at = at.run()
    at.selectbox(key="outfits_gender_d1").set_value("Men")
    at = at.run()
    assert not at.exception, at.exception
    entry = at.session_state["outfits_look"]["entries"][1]
    assert entry["season"] == "winter" and entry["gender"] == "men"
    assert _charts(at)[0]["data"][0]["z"] != before  # the model read the stated facts
    shoes = sorted(b.key.split("-")[1] for b in at.button
                   if b.key.startswith("outfits_fill_shoes-"))
    assert shoes == ["S000", "S002"]  # the look is for men now: men's and unisex shoes


def _verdict(at) -> str:
    (text,) = [a.value for a in (*at.success, *at.warning, *at.error)
               if a.value.startswith(("These ", "Not quite"))]
    return text


def test_the_verdict_names_the_clashing_pair_and_why(app_test, seeded, repo):
    """A women's tee with a men's jacket, every pair scored low: the verdict says why."""
    _compat(seeded, bias=-10.0)
    repo.update_item_fields(TEE, {"gender": "women"})
    repo.update_item_fields(JACKET, {"gender": "men"})
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (TEE, JACKET)])
    assert not at.exception, at.exception
    text = _verdict(at)
    assert text.startswith("These don't go together (0%): one pair clashes.")
    assert "navy tee with " in text and "women's and men's pieces" in text
    (help_text,) = [m.help for m in at.metric if m.label == "Outfit score"]
    assert "every pair scores 50% or more" in help_text


def test_a_photos_guessed_category_can_be_corrected(app_test, seeded):
    """A bomber jacket guessed as a hoodie: the owner picks *jacket*; the label, the missing
    pieces and what completes the look follow the correction."""
    from core.outfits.features import HIST_DIM, META_DIM

    photo = {"kind": "photo", "digest": "d1", "name": "bomber.jpg", "category": "hoodie",
             "guesses": [["hoodie", 0.62], ["jacket", 0.31], ["sweater", 0.04]],
             "bytes": (seeded.data_dir / "images" / "t003.jpg").read_bytes(),
             "vector": np.random.default_rng(1).normal(size=DIM).tolist(),
             "side": [1 / 8] * HIST_DIM + [0.0] * META_DIM}
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": SKIRT}, photo])
    assert not at.exception, at.exception
    box = at.selectbox(key="outfits_category_d1")
    assert box.value == "hoodie · 62%"
    assert box.options[:4] == ["What is it?", "hoodie · 62%", "jacket · 31%", "sweater · 4%"]
    assert "blazer" in box.options  # every category, after the guesses
    assert _charts(at)[0]["data"][0]["x"][1] == "2. bomber.jpg (hoodie)"
    assert any("still needs: **shoes**" in i.value for i in at.info)
    box.set_value("jacket · 31%")
    at = at.run()
    assert not at.exception, at.exception
    assert at.session_state["outfits_look"]["entries"][1]["category"] == "jacket"
    assert _charts(at)[0]["data"][0]["x"][1] == "2. bomber.jpg (jacket)"
    assert any("still needs: **top**, **shoes**" in i.value for i in at.info)
    labels = [m.value for m in at.markdown]
    assert "**Top · missing**" in labels and "**Outerwear**" not in labels


def test_loading_an_example_asks_before_replacing_the_look(app_test, seeded):
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (DRESS, JACKET)])
    at = _click(at, "outfits_load_O00002")
    assert not at.exception, at.exception
    assert _look(at) == [DRESS, JACKET]  # not replaced silently
    assert any("outfit O00002 is ready, and your look already has 2 pieces" in m.value
               for m in at.markdown)
    at = _click(at, "outfits_offer_add")
    assert _look(at) == [DRESS, JACKET, "T005", "T006", "S001"]
    at = _click(at, "outfits_load_O00001")
    at = _click(at, "outfits_offer_replace")
    assert not at.exception, at.exception
    assert _look(at) == [TEE, SKIRT, "S000"]
    assert "Started a new look with outfit O00001." in [t.value for t in at.toast]


def test_a_handed_over_item_does_not_join_a_look_silently(app_test, seeded, repo):
    """*Complete the look* on Customers with a men's item while the look is a women's one:
    the page asks, and shows the clash adding it would make."""
    _compat(seeded, bias=-10.0)
    for sku, gender in ((TEE, "women"), (SKIRT, "women"), ("S000", "men")):
        repo.update_item_fields(sku, {"gender": gender})
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (TEE, SKIRT)],
               outfits_handoff="S000")
    assert not at.exception, at.exception
    assert _look(at) == [TEE, SKIRT]
    (offer,) = [m.value for m in at.markdown if "is ready" in m.value]
    assert "Added to your look: These don't go together" in offer
    assert "women's and men's pieces" in offer
    at = _click(at, "outfits_offer_cancel")
    assert _look(at) == [TEE, SKIRT] and not any("is ready" in m.value for m in at.markdown)
    at.session_state["outfits_handoff"] = "S000"
    at = at.run()
    at = _click(at, "outfits_offer_replace")
    assert _look(at) == ["S000"]


def test_a_handed_over_item_starts_an_empty_look(app_test, seeded):
    at = _open(app_test, outfits_handoff="T005")
    assert not at.exception, at.exception
    assert _look(at) == ["T005"]


def test_suggestions_show_the_looks_score_as_a_percentage(app_test, seeded):
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (TEE, SKIRT)])
    looks = [c.value for c in at.caption if " · look " in c.value]
    assert len(looks) >= 3
    assert all(re.search(r" · look \d{1,3}%$", c) for c in looks), looks


def test_the_piece_that_sinks_the_look_can_be_removed_in_one_click(app_test, seeded,
                                                                   monkeypatch):
    import core.outfits.removal as removal

    monkeypatch.setattr(removal, "best_removal", lambda stylist, pieces, score: (1, 0.8))
    at = _open(app_test, outfits_look=[{"kind": "item", "sku": s} for s in (TEE, SKIRT, DRESS)])
    assert not at.exception, at.exception
    assert any("Without **2. " in i.value and "scores **80%**" in i.value for i in at.info)
    assert any(c.value.startswith("**1. ") for c in at.caption)  # the look's pieces numbered
    at = _click(at, "outfits_drop_best")
    assert not at.exception, at.exception
    assert _look(at) == [TEE, DRESS]
