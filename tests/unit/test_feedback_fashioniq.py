"""FashionIQ importer on small hand-written files, including malformed ones."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.feedback.fashioniq import (
    FashionIQFormatError,
    fashioniq_data,
    load_fashioniq,
    pair_captions,
    read_caption_file,
)
from core.feedback.real import is_held_out, read_real_captions


def _write(path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj) if not isinstance(obj, str) else obj)


@pytest.fixture
def fiq(tmp_path):
    root = tmp_path / "fiq"
    _write(root / "captions" / "cap.dress.train.json", [
        {"candidate": "D1", "target": "D2", "captions": ["is red", "has longer sleeves"]},
        {"candidate": "D2", "target": "D3", "captions": ["is darker", "is striped"]},
    ])
    _write(root / "captions" / "cap.dress.val.json", [
        {"candidate": "D4", "target": "D5", "captions": ["is blue", "is shorter"]},
    ])
    _write(root / "captions" / "cap.shirt.train.json", [
        {"candidate": "S1", "target": "S2", "captions": ["has a logo", "is white"]},
    ])
    _write(root / "image_splits" / "split.dress.train.json", ["D1", "D2", "D3"])
    _write(root / "image_splits" / "split.dress.val.json", ["D4", "D5", "D6"])
    _write(root / "image_splits" / "split.shirt.train.json", ["S1", "S2"])
    images = tmp_path / "images"
    images.mkdir()
    for i, name in enumerate(["D1", "D2", "D3", "D4", "D5", "D6", "S1"]):  # S2 is missing
        Image.new("RGB", (8, 8), (i * 30, 0, 0)).save(images / f"{name}.jpg")
    return root, images


def _fake_embed(paths):
    return np.stack([np.r_[np.frombuffer(p.stem.encode().ljust(4, b"_"), np.uint8), 1.0]
                     .astype(np.float32) for p in paths])


def test_reads_captions_and_splits(fiq):
    root, _ = fiq
    data = load_fashioniq(root)
    assert len(data.entries) == 4
    assert data.images[("dress", "val")] == ["D4", "D5", "D6"]
    assert {e.category for e in data.entries} == {"dress", "shirt"}
    assert len(data.files) == 6


def test_flat_folder_layout_also_works(tmp_path):
    _write(tmp_path / "cap.toptee.val.json",
           [{"candidate": "T1", "target": "T2", "captions": ["is pink", "has no sleeves"]}])
    data = load_fashioniq(tmp_path)
    assert data.entries[0].split == "val" and data.entries[0].category == "toptee"


def test_builds_pairs_gallery_and_skips_missing_images(fiq):
    root, images = fiq
    data = fashioniq_data(load_fashioniq(root), images, _fake_embed)
    assert data.source == "fashioniq"
    assert "S2" not in data.row and "D6" in data.row  # D6: gallery-only image
    assert [p.reference for p in data.split_pairs("train")] == ["D1", "D2"]  # S1>S2 skipped
    val = data.split_pairs("val")
    assert val[0].captions == ["is blue and is shorter"]
    assert "is red and has longer sleeves" in data.split_pairs("train")[0].captions
    assert np.allclose(np.linalg.norm(data.vectors, axis=1), 1)
    assert data.info[data.row["D4"]]["split"] == "val"


def test_pair_captions_variants():
    assert pair_captions(["a", "b"]) == ["a", "b", "a and b", "b and a"]
    assert pair_captions(["only"]) == ["only"]


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ({"candidate": "x"}, "expected a JSON list"),
    (["oops"], "entry 0: expected an object"),
    ([{"target": "B", "captions": ["x"]}], "entry 0: 'candidate' must be"),
    ([{"candidate": "A", "captions": ["x"]}], "entry 0: 'target' is missing"),
    ([{"candidate": "A", "target": "B", "captions": ["ok", "ok"]},
      {"candidate": "A", "target": "B", "captions": "is red"}], "entry 1: 'captions' must be"),
    ([{"candidate": "A", "target": "B", "captions": [" ", ""]}], "entry 0: 'captions' are all"),
    ([{"candidate": "A", "target": 7, "captions": ["x"]}], "entry 0: 'target' must be"),
])
def test_malformed_caption_files_name_file_and_entry(tmp_path, content, message):
    path = tmp_path / "cap.dress.train.json"
    _write(path, content)
    with pytest.raises(FashionIQFormatError) as err:
        read_caption_file(path, category="dress", split="train")
    assert str(path) in str(err.value) and message in str(err.value)


def test_test_split_may_omit_targets(tmp_path):
    path = tmp_path / "cap.dress.test.json"
    _write(path, [{"candidate": "A", "captions": ["is red", "is long"]}])
    assert read_caption_file(path, category="dress", split="test")[0].target is None


def test_malformed_split_file_and_empty_folder(tmp_path):
    _write(tmp_path / "cap.dress.train.json",
           [{"candidate": "A", "target": "B", "captions": ["x"]}])
    _write(tmp_path / "split.dress.train.json", ["A", 3])
    with pytest.raises(FashionIQFormatError, match=r"split.dress.train.json: entry 1"):
        load_fashioniq(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FashionIQFormatError, match="no FashionIQ caption files"):
        load_fashioniq(tmp_path / "empty")
    with pytest.raises(FashionIQFormatError, match="not a folder"):
        load_fashioniq(tmp_path / "missing")


def test_no_images_at_all_is_an_error(fiq, tmp_path):
    root, _ = fiq
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FashionIQFormatError, match="none of the"):
        fashioniq_data(load_fashioniq(root), empty, _fake_embed)


def test_real_caption_holdout_is_deterministic(fiq):
    root, _ = fiq
    held = read_real_captions(root / "captions", "heldout")
    rest = read_real_captions(root / "captions", "train")
    assert len(held) + len(rest) == 8
    assert is_held_out("D1", "D2") == is_held_out("D1", "D2")
