"""Garment masking with colour-coded masks, and the background-removal fallback."""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.models.masking import FILL, apply_mask, garment_pixels, mask_image, remove_background
from core.taxonomy import SEGMENT_COLORS, SEGMENT_INDEX


def _scene():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64, 3), dtype=np.uint8)  # background (0, 0, 0)
    mask[10:40, 10:50] = SEGMENT_COLORS["top"]
    mask[40:60, 15:45] = SEGMENT_COLORS["pants"]
    mask[0:10, 20:40] = SEGMENT_COLORS["face"]
    mask[10:40, 50:60] = SEGMENT_COLORS["skin"]
    return img, mask


def test_colour_mask_keeps_garments_and_drops_background_skin_face():
    img, mask = _scene()
    out = apply_mask(Image.fromarray(img), Image.fromarray(mask))
    arr = np.asarray(out.image)
    assert out.method == "mask"
    assert np.array_equal(arr[10:40, 10:50], img[10:40, 10:50])  # top kept
    assert np.array_equal(arr[40:60, 15:45], img[40:60, 15:45])  # pants kept
    assert (arr[0:10, 20:40] == FILL).all()  # face dropped
    assert (arr[10:40, 50:60] == FILL).all()  # skin dropped
    assert (arr[62:, :] == FILL).all()  # background dropped
    assert 0.2 < out.kept < 0.6


def test_mask_colours_within_tolerance_still_match():
    _, mask = _scene()
    noisy = np.clip(mask.astype(int) + np.random.default_rng(1).integers(-6, 7, mask.shape), 0,
                    255).astype(np.uint8)
    assert np.array_equal(garment_pixels(noisy), garment_pixels(mask))
    far = mask.copy()
    far[10:40, 10:50] = (128, 0, 128)  # no palette colour within tolerance: dropped
    assert not garment_pixels(far)[20, 20]


def test_label_index_mask_and_resized_mask():
    img, mask = _scene()
    labels = np.zeros((32, 32), dtype=np.uint8)
    labels[5:20, 5:25] = SEGMENT_INDEX["dress"]
    out = apply_mask(Image.fromarray(img), Image.fromarray(labels, "L"))
    arr = np.asarray(out.image)
    assert np.array_equal(arr[12:38, 12:48], img[12:38, 12:48])
    assert (arr[50:, :] == FILL).all()


def test_mask_without_garment_returns_original():
    img, _ = _scene()
    empty = Image.new("RGB", (64, 64), (0, 0, 0))
    out = apply_mask(Image.fromarray(img), empty)
    assert out.method == "none"
    assert np.array_equal(np.asarray(out.image), img)


def test_demo_render_mask_isolates_the_garment():
    from core.demo.render import render_item

    spec = {"category": "tee", "attrs": {"color": "red", "pattern": "solid", "sleeve": "short",
                                         "length": "hip", "fit": "regular", "season": "summer"},
            "render": {"seed": 3, "shape_seed": 4}}
    image, mask = render_item(spec, variant=0, size=96)
    out = apply_mask(image, mask)
    keep = garment_pixels(mask)
    assert out.method == "mask"
    assert 0.02 < keep.mean() < 0.95
    arr = np.asarray(out.image)
    assert (arr[~keep] == FILL).all()
    assert np.array_equal(arr[keep], np.asarray(image)[keep])


def _product_photo(bg=(190, 190, 195)):
    arr = np.full((80, 60, 3), bg, dtype=np.uint8)
    arr[15:70, 12:48] = (170, 30, 40)
    arr[30:40, 25:35] = bg  # a hole of background colour inside the garment stays
    return arr


def test_fallback_removes_plain_background_but_keeps_garment():
    arr = _product_photo()
    out = remove_background(Image.fromarray(arr))
    res = np.asarray(out.image)
    assert out.method == "background"
    assert (res[:10] == FILL).all()
    assert np.array_equal(res[15:70, 12:48], arr[15:70, 12:48])


def test_fallback_never_blanks_the_whole_image():
    plain = Image.new("RGB", (50, 50), (200, 200, 200))
    assert remove_background(plain).method == "none"
    assert np.array_equal(np.asarray(remove_background(plain).image), np.asarray(plain))
    noise = Image.fromarray(np.random.default_rng(2).integers(0, 255, (50, 50, 3), np.uint8))
    out = remove_background(noise)
    assert out.method == "none" and out.kept == 1.0
    frame = np.full((200, 200, 3), (190, 190, 195), np.uint8)
    frame[1:199, 1:199] = (170, 30, 40)  # garment fills the frame: under 2% background
    assert remove_background(Image.fromarray(frame)).method == "none"
    full = np.full((80, 60, 3), (170, 30, 40), np.uint8)
    full[:2, :2] = (190, 190, 195)  # border median is the garment: would remove > 90%
    assert remove_background(Image.fromarray(full)).method == "none"


def test_mask_image_switch():
    img, mask = _scene()
    pil, pmask = Image.fromarray(img), Image.fromarray(mask)
    assert mask_image(pil, pmask, enabled=False).image is pil
    assert mask_image(pil, pmask).method == "mask"
    assert mask_image(Image.fromarray(_product_photo())).method == "background"
