"""DeepFashion importer: list files, file-name metadata, segmentation masks."""

from __future__ import annotations

import pytest
from PIL import Image

from core.ingest.deepfashion import deepfashion_items, map_category, parse_name


def test_parse_name_multimodal_and_inshop():
    meta = parse_name("MEN-Denim-id_00000080-01_7_additional.jpg")
    assert meta == {"gender": "men", "category": "Denim", "item_id": "00000080", "pose": "01",
                    "view": "7", "kind": "additional"}
    inshop = parse_name("img/WOMEN/Blouses_Shirts/id_00000001/02_1_front.jpg")
    assert inshop["gender"] == "women" and inshop["category"] == "Blouses_Shirts"
    assert inshop["item_id"] == "00000001"
    assert parse_name("holiday.jpg") is None


def test_category_mapping():
    assert map_category("Denim") == "jeans"
    assert map_category("Tees_Tanks") == "tee"
    assert map_category("Button-Down") == "shirt"
    assert map_category("Spacesuit") == "spacesuit"


def test_benchmark_list_files(tmp_path):
    (tmp_path / "img" / "Floral_Dress").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "img/Floral_Dress/img_00000001.jpg")
    Image.new("RGB", (8, 8)).save(tmp_path / "img/Floral_Dress/img_00000002.jpg")
    anno = tmp_path / "Anno"
    anno.mkdir()
    (anno / "list_category_cloth.txt").write_text(
        "3\ncategory_name  category_type\nAnorak 1\nBlazer 1\nDress 3\n")
    (anno / "list_category_img.txt").write_text(
        "2\nimage_name  category_label\nimg/Floral_Dress/img_00000001.jpg 3\n"
        "img/Floral_Dress/img_00000002.jpg 2\n")
    (anno / "list_attr_cloth.txt").write_text(
        "3\nattribute_name  attribute_type\nfloral print 1\nmaxi 3\nsleeveless 2\n")
    (anno / "list_attr_img.txt").write_text(
        "2\nimage_name  attribute_labels\nimg/Floral_Dress/img_00000001.jpg 1 1 -1\n"
        "img/Floral_Dress/img_00000002.jpg -1 -1 1\n")
    (tmp_path / "Eval").mkdir()
    (tmp_path / "Eval" / "list_eval_partition.txt").write_text(
        "2\nimage_name evaluation_status\nimg/Floral_Dress/img_00000001.jpg train\n"
        "img/Floral_Dress/img_00000002.jpg test\n")
    items = deepfashion_items(tmp_path)
    assert [i["category"] for i in items] == ["dress", "blazer"]
    assert items[0]["attrs"] == {"pattern": "floral", "length": "maxi"}
    assert items[1]["attrs"] == {"sleeve": "sleeveless"}
    assert [i["split"] for i in items] == ["train", "test"]
    assert items[0]["extra"]["attributes"] == ["floral print", "maxi"]
    assert items[0]["image_path"] == str(tmp_path / "img/Floral_Dress/img_00000001.jpg")
    assert len({i["sku"] for i in items}) == 2


def test_named_images_with_segmentation_masks(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "segm").mkdir()
    for name in ("MEN-Denim-id_00000080-01_7_additional", "WOMEN-Dresses-id_00000002-02_1_front"):
        Image.new("RGB", (8, 8)).save(tmp_path / "images" / f"{name}.jpg")
    mask_name = "MEN-Denim-id_00000080-01_7_additional_segm.png"
    Image.new("RGB", (8, 8)).save(tmp_path / "segm" / mask_name)
    Image.new("RGB", (8, 8)).save(tmp_path / "images" / "unrelated.jpg")
    items = deepfashion_items(tmp_path)
    assert len(items) == 2
    denim = next(i for i in items if i["category"] == "jeans")
    assert denim["gender"] == "men" and denim["extra"]["item_id"] == "00000080"
    assert denim["mask_path"].endswith("_segm.png")
    dress = next(i for i in items if i["category"] == "dress")
    assert dress["mask_path"] is None and dress["gender"] == "women"


def test_missing_root_and_bad_list(tmp_path):
    with pytest.raises(FileNotFoundError):
        deepfashion_items(tmp_path / "nope")
    (tmp_path / "list_category_img.txt").write_text("x\n")
    (tmp_path / "list_category_cloth.txt").write_text("x\n")
    with pytest.raises(ValueError, match="count"):
        deepfashion_items(tmp_path)
