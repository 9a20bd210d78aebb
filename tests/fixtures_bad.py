"""Generators of broken and awkward input files for the image/ingest tests (no test data on disk).

Each ``make_*`` writes files into a folder and returns ``{file name: expected}`` where expected
is a substring of the rejection reason, or ``None`` for files that must be normalised and kept.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

REJECTED = {
    "zero.jpg": "empty file",
    "truncated.jpg": "truncated or corrupt",
    "corrupt.jpg": "corrupt",
    "bad_crc.png": "truncated or corrupt",
    "notes.jpg": "not an image",
    "bomb_header.png": "decompression bomb",
    "bomb_huge.png": "decompression bomb",
    "bomb_small.png": "decompression bomb",
}
NORMALISED = ("cmyk.jpg", "deep16.png", "palette.png", "transparent.png", "animated.gif",
              "rotated.jpg", "grey.jpg", "la.png", "plain.jpg")


def jpeg_bytes(size: tuple[int, int] = (64, 48), color=(200, 30, 30), seed: int = 0) -> bytes:
    """A small RGB JPEG with a seeded pattern (distinct seeds give distinct bytes)."""
    rng = np.random.default_rng(seed)
    arr = np.empty((size[1], size[0], 3), dtype=np.uint8)
    arr[:] = color
    arr[: size[1] // 2, : size[0] // 2] = rng.integers(0, 255, 3)
    arr += rng.integers(0, 8, arr.shape, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def png_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height pixels, with a tiny (invalid) image body."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def exif_rotated_jpeg(size: tuple[int, int] = (60, 40), orientation: int = 6) -> bytes:
    img = Image.new("RGB", size, (20, 120, 220))
    img.paste((250, 250, 0), (0, 0, size[0] // 3, size[1] // 3))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=80,
                   loop=0)
    return buf.getvalue()


def transparent_png() -> bytes:
    img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    img.paste((10, 200, 10, 255), (10, 10, 30, 30))
    return png_bytes(img)


def deep16_png() -> bytes:
    ramp = np.tile(np.linspace(0, 65535, 64, dtype=np.uint16), (32, 1))
    return png_bytes(Image.fromarray(ramp))  # uint16 -> mode I;16


def bad_crc_png() -> bytes:
    data = bytearray(png_bytes(Image.new("RGB", (32, 32), (1, 2, 3))))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip a byte inside the compressed data: CRC no longer matches
    return bytes(data)


def bad_image_files() -> dict[str, bytes]:
    """The bad-input corpus as bytes, by file name."""
    good = jpeg_bytes((160, 120), seed=1)
    cmyk = io.BytesIO()
    Image.new("CMYK", (40, 32), (0, 255, 255, 0)).save(cmyk, format="JPEG")
    grey = io.BytesIO()
    Image.new("L", (40, 32), 90).save(grey, format="JPEG")
    small_bomb = png_bytes(Image.new("1", (8000, 6000), 0), optimize=True)
    return {
        "zero.jpg": b"",
        "truncated.jpg": good[: len(good) * 2 // 3],
        "corrupt.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4,
        "bad_crc.png": bad_crc_png(),
        "notes.jpg": b"size,colour\nM,red\nthis is a text file renamed to .jpg\n",
        "bomb_header.png": png_header_only(7_000, 7_000),
        "bomb_huge.png": png_header_only(100_000, 100_000),
        "bomb_small.png": small_bomb,
        "cmyk.jpg": cmyk.getvalue(),
        "deep16.png": deep16_png(),
        "palette.png": png_bytes(Image.new("RGB", (32, 32), (200, 100, 50)).convert("P")),
        "transparent.png": transparent_png(),
        "animated.gif": animated_gif(),
        "rotated.jpg": exif_rotated_jpeg(),
        "grey.jpg": grey.getvalue(),
        "la.png": png_bytes(Image.new("LA", (32, 32), (128, 200))),
        "plain.jpg": good,
    }


def make_bad_images(folder: Path) -> dict[str, str | None]:
    """Write the corpus into ``folder``; returns {name: expected reason substring or None}."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in bad_image_files().items():
        (folder / name).write_bytes(data)
    return {**REJECTED, **dict.fromkeys(NORMALISED)}


def write_images(folder: Path, n: int, *, start: int = 0, size: tuple[int, int] = (48, 48)
                 ) -> list[Path]:
    """``n`` distinct small JPEGs named img_00000.jpg … in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        p = folder / f"img_{i:05d}.jpg"
        p.write_bytes(jpeg_bytes(size, color=(i * 37 % 256, i * 11 % 256, 90), seed=i))
        paths.append(p)
    return paths
