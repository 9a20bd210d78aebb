"""The garment colour reader: Lab maths, palette naming, pixel sources, shadows, skin, casts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.tagging import colour as reader
from core.tagging.colour import ColourReading, name_colour, nearest_palette, read_colour
from core.tagging.lab import delta_e2000, to_lab
from core.taxonomy import COLORS, SEGMENT_COLORS

SIZE = 96
BACKDROP = (236, 236, 232)


def _garment(colour, background=BACKDROP, size: int = SIZE) -> np.ndarray:
    """A plain backdrop with a garment-like block (a torso and sleeves) in the middle."""
    arr = np.zeros((size, size, 3), dtype=np.float64) + background
    s = size // 8
    arr[2 * s:7 * s, 3 * s:5 * s + s // 2] = colour  # body
    arr[2 * s:3 * s + s // 2, 2 * s:6 * s + s // 2] = colour  # shoulders and sleeves
    return arr


def _img(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _textured(size: int = SIZE, seed: int = 0) -> np.ndarray:
    """A busy background: large random blocks of many colours (no plain border)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (8, 8, 3)).astype(np.float64)
    return np.kron(blocks, np.ones((size // 8, size // 8, 1)))


def test_lab_matches_reference_values():
    rgb = np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255],
                    [128, 128, 128]])
    want = np.array([[100, 0, 0], [0, 0, 0], [53.2408, 80.0925, 67.2032],
                     [87.7347, -86.1827, 83.1793], [32.2970, 79.1875, -107.8602],
                     [53.5850, 0, 0]])
    assert np.allclose(to_lab(rgb), want, atol=1e-3)
    assert to_lab(np.zeros((2, 3, 3))).shape == (2, 3, 3)


@pytest.mark.parametrize(("lab1", "lab2", "de"), [  # Sharma, Wu & Dalal's CIEDE2000 test data
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
    ((50, 0, 0), (50, -1, 2), 2.3669),
    ((50, 2.5, 0), (73, 25, -18), 27.1492),
    ((50, 2.5, 0), (61, -5, 29), 22.8977),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
])
def test_ciede2000_reference_pairs(lab1, lab2, de):
    assert delta_e2000(np.array(lab1), np.array(lab2)) == pytest.approx(de, abs=1e-4)
    assert delta_e2000(np.array(lab2), np.array(lab1)) == pytest.approx(de, abs=1e-4)


def test_every_palette_colour_names_itself():
    for name, colour in COLORS.items():
        assert nearest_palette(colour.rgb) == name
    assert nearest_palette((205, 30, 40)) == "red"
    assert nearest_palette([250, 250, 250]) == "white"


@pytest.mark.parametrize("name", ["red", "navy", "green", "yellow", "grey", "beige", "pink"])
def test_plain_background_reads_the_garment(name):
    reading = read_colour(_img(_garment(COLORS[name].rgb)))
    assert isinstance(reading, ColourReading)
    assert (reading.name, reading.method) == (name, "background")
    assert reading.second is None and reading.share > 0.9 and 0.5 < reading.confidence <= 1


@pytest.mark.parametrize("name", ["red", "blue", "white", "purple"])
def test_textured_background_reads_the_centre(name):
    arr = _textured()
    s = SIZE // 8
    arr[2 * s:6 * s, 2 * s:6 * s] = COLORS[name].rgb
    reading = read_colour(_img(arr))
    assert (reading.name, reading.method) == (name, "centre")


@pytest.mark.parametrize("scene_shaded", [False, True])
def test_shadow_gradient_keeps_red_red(scene_shaded):
    arr = _garment(COLORS["red"].rgb)
    shade = np.linspace(1.0, 0.45, SIZE)[None, :, None]  # light falls off to the right
    garment = (arr != BACKDROP).any(axis=2)[..., None]
    arr = arr * shade if scene_shaded else np.where(garment, arr * shade, arr)
    reading = read_colour(_img(arr))
    assert reading.name == "red"
    assert reading.second != "burgundy"


def test_a_burgundy_garment_stays_burgundy():
    assert read_colour(_img(_garment(COLORS["burgundy"].rgb))).name == "burgundy"


def test_bare_arms_do_not_change_the_garment_colour():
    arr = _garment(COLORS["navy"].rgb)
    s = SIZE // 8
    skin = (224, 172, 140)
    arr[3 * s + s // 2:7 * s, s:2 * s + s // 2] = skin  # arms beside the body
    arr[3 * s + s // 2:7 * s, 6 * s:7 * s + s // 2] = skin
    arr[s // 2:2 * s, 3 * s + s // 2:4 * s + s // 2] = skin  # neck
    reading = read_colour(_img(arr))
    assert reading.name == "navy" and reading.second is None


def test_a_beige_garment_is_not_dropped_as_skin():
    assert read_colour(_img(_garment(COLORS["beige"].rgb))).name == "beige"
    assert read_colour(_img(_garment((196, 150, 120)))).name in ("beige", "brown")


def _striped() -> np.ndarray:
    """A navy garment with white stripes on a grey backdrop."""
    arr = _garment(COLORS["navy"].rgb, background=(196, 196, 200))
    body = arr[SIZE // 4:7 * SIZE // 8]
    rows = (np.arange(len(body)) // 4) % 2 == 1
    garment = (body == COLORS["navy"].rgb).all(axis=2)
    body[rows[:, None] & garment] = COLORS["white"].rgb
    return arr


def test_stripes_give_a_second_colour():
    arr = _striped()
    reading = read_colour(_img(arr))
    assert {reading.name, reading.second} == {"navy", "white"}


def test_white_balance_is_off_by_default_and_removes_a_cast_when_on(monkeypatch):
    assert reader.WB_STRENGTH == 0.0  # real backdrops (beds, floors) are not neutral
    monkeypatch.setattr(reader, "WB_STRENGTH", 0.6)
    for name in ("grey", "white", "light blue", "navy"):
        arr = _garment(COLORS[name].rgb) * np.array([1.12, 1.0, 0.8])  # tungsten-ish cast
        assert read_colour(_img(arr)).name == name, name


def test_a_warm_backdrop_does_not_shift_a_grey_garment():
    arr = _garment(COLORS["grey"].rgb, background=(214, 190, 150))  # a pale wooden floor
    assert read_colour(_img(arr)).name == "grey"


@pytest.mark.parametrize(("rgb", "name"), [
    ((38, 42, 60), "navy"),  # photographed navy: dark, muted, bluish (CIEDE2000 says black)
    ((30, 30, 32), "black"),
    ((60, 62, 66), "black"),  # a lit black stays black
    ((120, 122, 125), "grey"),
    ((95, 115, 150), "blue"),  # mid-wash denim
    ((140, 160, 190), "light blue"),  # washed denim / dusty blue
    ((205, 205, 210), "white"),
    ((112, 22, 44), "burgundy"),  # warm colours keep their CIEDE2000 name
    ((214, 193, 158), "beige"),
])
def test_cool_muted_colours_are_named_by_blueness_and_lightness(rgb, name):
    assert name_colour(to_lab(np.array(rgb, dtype=np.float64))) == name


def test_blueness_survives_shade():
    lit = np.array([38.0, 42.0, 60.0])
    for light in (1.0, 0.6, 0.35):  # shading scales linear light
        rgb = reader.linear_to_srgb(reader.srgb_to_linear(lit) * light)
        assert name_colour(to_lab(rgb)) == "navy", light


def test_a_muted_navy_garment_reads_navy_not_black():
    reading = read_colour(_img(_garment((38, 42, 60))))
    assert reading.name == "navy"


def test_mask_path_uses_garment_labels_only():
    arr = _textured(seed=3)
    s = SIZE // 8
    arr[2 * s:6 * s, 2 * s:6 * s] = COLORS["green"].rgb
    arr[2 * s:6 * s, 6 * s:7 * s] = (224, 172, 140)  # skin, labelled as such
    mask = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    mask[2 * s:6 * s, 2 * s:6 * s] = SEGMENT_COLORS["top"]
    mask[2 * s:6 * s, 6 * s:7 * s] = SEGMENT_COLORS["skin"]
    reading = read_colour(_img(arr), mask=Image.fromarray(mask))
    assert (reading.name, reading.method) == ("green", "mask")
    boolean = read_colour(_img(arr), mask=mask.any(axis=2) & (mask != SEGMENT_COLORS["skin"])
                          .any(axis=2))
    assert (boolean.name, boolean.method) == ("green", "mask")


def test_a_mask_without_garment_falls_back():
    arr = _garment(COLORS["orange"].rgb)
    empty = Image.new("RGB", (SIZE, SIZE), SEGMENT_COLORS["background"])
    reading = read_colour(_img(arr), mask=empty)
    assert (reading.name, reading.method) == ("orange", "background")


def test_large_photos_are_read_downscaled_and_json_is_plain():
    arr = np.kron(_garment(COLORS["yellow"].rgb, size=64), np.ones((6, 5, 1)))  # 384 x 320
    reading = read_colour(_img(arr))
    assert reading.name == "yellow"
    js = reading.to_json()
    assert set(js) == {"name", "second", "confidence", "share", "method", "dist"}
    assert js["dist"] is None  # the rule-based reader gives no distribution
    assert isinstance(js["confidence"], float) and isinstance(js["share"], float)


def test_a_photo_gets_a_second_colour_only_where_a_mask_outlines_the_garment():
    from core.tagging.colour_model import photo_colour

    arr = _striped()
    mask = np.zeros(arr.shape[:2], dtype=bool)
    mask[2 * SIZE // 8:7 * SIZE // 8, 2 * SIZE // 8:6 * SIZE // 8 + SIZE // 16] = True
    masked = photo_colour(_img(arr), mask=mask)
    assert masked.method == "mask" and {masked.name, masked.second} == {"navy", "white"}
    estimated = photo_colour(_img(arr))  # background removal: the region is a guess
    assert estimated.name == read_colour(_img(arr)).name and estimated.second is None
    with_head = photo_colour(_img(arr), {"navy": 0.7, "white": 0.3})
    assert with_head.second is None
    assert photo_colour(_img(arr), {"navy": 0.7, "white": 0.3}, mask=mask).second == "white"
