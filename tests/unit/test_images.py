"""core.images: decoding, validation and normalisation of every kind of input image."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from core.images import (
    ImageRejected,
    content_hash,
    decode_bytes,
    load_image,
    save_normalized,
    square_pad,
    write_atomic,
)
from tests.fixtures_bad import REJECTED, bad_image_files, exif_rotated_jpeg, jpeg_bytes

FILES = bad_image_files()


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_bad_inputs_rejected_with_reason_naming_the_file(name):
    with pytest.raises(ImageRejected) as info:
        load_image(FILES[name], name=name)
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    assert REJECTED[name] in info.value.reason
    assert "\n" not in message


def test_rejection_from_path_uses_file_name(tmp_path):
    path = tmp_path / "shirt.jpg"
    data = jpeg_bytes((160, 120))
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ImageRejected, match=r"^shirt\.jpg: truncated or corrupt image \(the "
                       r"file ends early"):
        load_image(path)


def test_missing_and_too_large_files(tmp_path):
    with pytest.raises(ImageRejected, match="file not found"):
        load_image(tmp_path / "nope.jpg")
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg_bytes())
    with pytest.raises(ImageRejected, match="file too large"):
        load_image(path, max_bytes=100)
    with pytest.raises(ImageRejected, match="file too large"):
        load_image(path.read_bytes(), max_bytes=100)


def test_pixel_cap_is_checked_before_decoding():
    png = io.BytesIO()
    Image.new("RGB", (64, 48)).save(png, "PNG")
    with pytest.raises(ImageRejected, match="image too large: 64x48 = 3,072 pixels"):
        load_image(png.getvalue(), name="x.png", max_pixels=64 * 48 - 1)
    assert load_image(jpeg_bytes((64, 48)), max_pixels=64 * 48).size == (64, 48)


def test_a_jpeg_over_the_pixel_cap_is_decoded_smaller():
    # a phone camera's 48-megapixel photo: decoded at half its size, not refused
    assert load_image(jpeg_bytes((64, 48)), max_pixels=64 * 48 - 1).size == (32, 24)
    assert load_image(jpeg_bytes((640, 480)), max_pixels=100 * 100).size == (80, 60)
    decoded = decode_bytes(jpeg_bytes((64, 48)), "x.jpg", max_pixels=1000)
    assert not decoded.unchanged  # stored as decoded, not as the original bytes
    with pytest.raises(ImageRejected, match="image too large"):  # even 1/8 is over
        load_image(jpeg_bytes((640, 480)), max_pixels=10)


def test_cmyk_converted_to_rgb():
    img = load_image(FILES["cmyk.jpg"])
    assert img.mode == "RGB"
    r, g, b = img.getpixel((5, 5))
    assert r > 200 and g < 60 and b < 60  # C=0 M=255 Y=255 K=0 is red


def test_16_bit_png_scaled_not_clipped():
    img = load_image(FILES["deep16.png"])
    assert img.mode == "RGB" and img.size == (64, 32)
    left, mid, right = (img.getpixel((x, 10))[0] for x in (0, 32, 63))
    assert left < 10 and 100 < mid < 160 and right > 245


def test_palette_and_greyscale_converted():
    assert load_image(FILES["palette.png"]).getpixel((3, 3)) == pytest.approx((204, 102, 51),
                                                                             abs=8)
    assert load_image(FILES["grey.jpg"]).getpixel((3, 3)) == (90, 90, 90)


def test_transparency_composited_on_white():
    img = load_image(FILES["transparent.png"])
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((20, 20)) == (10, 200, 10)
    la = load_image(FILES["la.png"])  # grey 128 at alpha 200 over white
    assert la.getpixel((0, 0))[0] == pytest.approx(128 * 200 / 255 + 255 * 55 / 255, abs=2)


def test_animated_gif_gives_first_frame():
    img = load_image(FILES["animated.gif"])
    assert img.mode == "RGB"
    r, g, b = img.getpixel((10, 10))
    assert r > 200 and g < 50 and b < 50


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_rotation_applied(orientation):
    img = load_image(exif_rotated_jpeg((60, 40), orientation))
    assert img.size == (40, 60)
    # The yellow top-left block of the stored pixels moves with the rotation.
    yellow_corner = (39, 0) if orientation == 6 else (0, 59)
    r, g, b = img.getpixel(yellow_corner)
    assert r > 200 and g > 200 and b < 80


def test_plain_rgb_jpeg_marked_unchanged_others_not():
    assert decode_bytes(FILES["plain.jpg"], "plain.jpg").unchanged
    assert not decode_bytes(FILES["rotated.jpg"], "rotated.jpg").unchanged
    assert not decode_bytes(FILES["cmyk.jpg"], "cmyk.jpg").unchanged
    assert not decode_bytes(FILES["palette.png"], "palette.png").unchanged


def test_content_hash_is_sha256_of_bytes():
    assert content_hash(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_square_pad_centres_on_white():
    img = Image.new("RGB", (20, 40), (0, 0, 0))
    sq = square_pad(img)
    assert sq.size == (40, 40)
    assert sq.getpixel((0, 20)) == (255, 255, 255)
    assert sq.getpixel((20, 20)) == (0, 0, 0)
    assert square_pad(sq) is sq


def test_save_normalized_writes_rgb_jpeg_atomically(tmp_path):
    dest = tmp_path / "a" / "b.jpg"
    save_normalized(Image.new("RGBA", (10, 12), (0, 0, 255, 255)), dest)
    with Image.open(dest) as img:
        assert img.format == "JPEG" and img.mode == "RGB" and img.size == (10, 12)
    assert [p.name for p in dest.parent.iterdir()] == ["b.jpg"]  # no temp file left
    assert oct(os.stat(dest).st_mode & 0o777) == "0o644"


def test_write_atomic_leaves_old_file_on_failure(tmp_path):
    dest = tmp_path / "x.bin"
    write_atomic(b"old", dest)
    with pytest.raises(TypeError):
        write_atomic(object(), dest)  # type: ignore[arg-type]
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]


def test_load_image_accepts_path_and_bytes(tmp_path):
    data = jpeg_bytes((30, 20))
    path = tmp_path / "ok.jpg"
    path.write_bytes(data)
    assert load_image(path).size == load_image(data).size == (30, 20)
    assert load_image(str(path)).mode == "RGB"
    buf = io.BytesIO()
    Image.new("RGB", (5, 5)).save(buf, format="WEBP")
    assert load_image(buf.getvalue()).size == (5, 5)
