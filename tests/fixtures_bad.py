"""Generators of broken and awkward input files for the image/ingest tests (no test data on disk).

Each ``make_*`` writes files into a folder and returns ``{file name: expected}`` where expected
is a substring of the rejection reason, or ``None`` for files that must be normalised and kept.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
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


# -- catalog-input corpus: each case is a small file or folder that must change nothing ------
def sized_png(width: int, height: int) -> bytes:
    return png_bytes(Image.new("RGB", (width, height), (200, 60, 60)))


def ico_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), (20, 90, 200)).save(buf, format="ICO", sizes=[(48, 48)])
    return buf.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" ' \
      b'height="64" fill="red"/></svg>'
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)


def _file(name: str, data: bytes):
    def build(root: Path) -> Path:
        (root / name).write_bytes(data)
        return root / name
    return build


def _folder(files: dict[str, bytes | str]):
    """A folder holding ``files`` (text for metadata, bytes for images)."""
    def build(root: Path) -> Path:
        folder = root / "in"
        for name, data in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, str):
                path.write_text(data, encoding="utf-8")
            else:
                path.write_bytes(data)
        return folder
    return build


def _with_image(metadata: str, text: str, name: str = "a.jpg"):
    """One good image and a metadata file (metadata.csv / metadata.json) about it."""
    return _folder({name: jpeg_bytes(seed=901), metadata: text})


def _csv(column: str, value: str):
    return _with_image("metadata.csv", f"file,{column}\na.jpg,{value}\n")


def _json(entry: dict):
    return _with_image("metadata.json", json.dumps([{"file": "a.jpg", **entry}]))


def _label_csv(rows: str, images: dict[str, bytes], extra: str = ""):
    """An image_name,category_label CSV (given as the path) beside its images."""
    def build(root: Path) -> Path:
        folder = _folder(images)(root)
        (folder / "labels.csv").write_text(f"image_name,category_label{extra}\n{rows}")
        return folder / "labels.csv"
    return build


def _dangling(root: Path) -> Path:
    folder = root / "in"
    folder.mkdir()
    (folder / "dang.jpg").symlink_to(root / "missing-target.jpg")
    return folder


def _analysis(items: list, name: str = "analysis.json", crop: bytes | None = None):
    files: dict[str, bytes | str] = {"crop_0.jpg": crop or jpeg_bytes(seed=902),
                                     name: json.dumps({"items": items})}
    return _folder(files)


def _demo(attrs: dict):
    item = {"sku": "demo-1", "image": "images/demo-1.jpg", "category": "tee", "attrs": attrs}
    return _folder({"manifest.json": json.dumps({"format": "fashion-studio-demo"}),
                    "items.jsonl": json.dumps(item) + "\n",
                    "images/demo-1.jpg": jpeg_bytes(seed=903)})


@dataclass(frozen=True)
class BadCase:
    """A bad input: how to make it, a substring of its message, where it can be given."""

    id: str
    build: Callable[[Path], Path]
    message: str
    channels: tuple[str, ...] = ("ingest",)


PHOTO = ("ingest", "search", "upload")  # a single image file: ingest, search and the uploader
SUPPORTED_LIST = "(supported: .jpg, .jpeg, .jfif, .png, .webp, .gif, .bmp, .tif, .tiff)"
_OPS = {"$where": "1", "a.b": "x", "color": {"$gt": ""}}

BAD_CASES = (
    BadCase("1x1-png", _file("dot.png", sized_png(1, 1)),
            "dot.png: too small: 1x1 px (minimum 32 px on the short side)", PHOTO),
    BadCase("thin-jpeg", _file("thin.jpg", jpeg_bytes((200, 31))),
            "thin.jpg: too small: 200x31 px (minimum 32 px on the short side)", PHOTO),
    BadCase("svg", _file("a.svg", SVG), f"a.svg: unsupported format .svg {SUPPORTED_LIST}",
            PHOTO),
    BadCase("heic", _file("a.heic", HEIC), f"a.heic: unsupported format .heic {SUPPORTED_LIST}",
            PHOTO),
    BadCase("ico", _file("a.ico", ico_bytes()),
            f"a.ico: unsupported format .ico {SUPPORTED_LIST}", PHOTO),
    BadCase("ico-named-png", _file("icon.png", ico_bytes()),
            "icon.png: unsupported format ICO (supported: JPEG, PNG, WebP, GIF, BMP, TIFF)",
            PHOTO),
    BadCase("no-extension", _file("photo", jpeg_bytes()),
            "photo: unsupported format (no file extension)", ("ingest", "search")),
    BadCase("empty", _file("zero.jpg", b""), "zero.jpg: empty file (0 bytes)", PHOTO),
    BadCase("truncated", _file("cut.jpg", jpeg_bytes((160, 120))[:900]),
            "cut.jpg: truncated or corrupt image", PHOTO),
    BadCase("text-as-jpeg", _file("notes.jpg", b"size,colour\nM,red\n"),
            "notes.jpg: not an image", PHOTO),
    BadCase("bomb-header", _file("bomb.png", png_header_only(7_000, 7_000)),
            "bomb.png: image too large: 7000x7000", PHOTO),
    BadCase("bad-crc", _file("crc.png", bad_crc_png()), "crc.png: truncated or corrupt", PHOTO),
    BadCase("folder-unsupported", _folder({"a.svg": SVG, "a.heic": HEIC, "a.ico": ico_bytes()}),
            f"rejected a.heic: unsupported format .heic {SUPPORTED_LIST}"),
    BadCase("folder-dangling-link", _dangling,
            "rejected dang.jpg: broken symbolic link (its target does not exist)"),
    BadCase("folder-1x1", _folder({"dot.png": sized_png(1, 1)}),
            "rejected dot.png: too small: 1x1 px (minimum 32 px on the short side)"),
    BadCase("json-operator-attrs", _json({"sku": "J1", "attrs": _OPS}),
            "metadata.json: entry 0 (a.jpg): attrs.$where: unknown attribute (known: color, "
            "pattern, season, sleeve, length, fit)"),
    BadCase("json-operator-colour", _json({"sku": "J1", "attrs": {"color": {"$gt": ""}}}),
            "entry 0 (a.jpg): attrs.color: expected text, got an object"),
    BadCase("json-dotted-attr", _json({"attrs": {"a.b": "x"}}),
            "entry 0 (a.jpg): attrs.a.b: unknown attribute"),
    BadCase("json-operator-field", _json({"$where": "1"}),
            "entry 0 (a.jpg): field: invalid name '$where' (no leading '$', dots or control "
            "characters)"),
    BadCase("json-attrs-list", _json({"attrs": ["red"]}),
            "entry 0 (a.jpg): attrs: expected an object, got list"),
    BadCase("json-name-newline", _json({"name": "red\ntee"}),
            "entry 0 (a.jpg): name: contains a control character (newline, tab, ...)"),
    BadCase("json-price-object", _json({"price": {"$gt": 0}}),
            "entry 0 (a.jpg): price: expected a number, got dict"),
    BadCase("json-long-sku", _json({"sku": "S" * 65}),
            "entry 0 (a.jpg): sku: longer than 64 characters"),
    BadCase("csv-sku-where", _csv("sku", "$where"), "row 2 (a.jpg): sku: '$where' starts with '$'"),
    BadCase("csv-sku-ne", _csv("sku", "$ne"), "row 2 (a.jpg): sku: '$ne' starts with '$'"),
    BadCase("csv-sku-dotted", _csv("sku", "a.b.c"),
            "row 2 (a.jpg): sku: 'a.b.c' is not a valid sku (1-64 letters, digits, '-' or '_', "
            "starting with a letter or digit)"),
    BadCase("csv-sku-space", _csv("sku", "A 1"), "row 2 (a.jpg): sku: 'A 1' is not a valid sku"),
    BadCase("csv-category-where", _csv("category", "$where"),
            "row 2 (a.jpg): category: '$where' starts with '$'"),
    BadCase("csv-operator-column", _csv("$set", "x"), "row 2 (a.jpg): field: invalid name '$set'"),
    BadCase("csv-unknown-column", _csv("notes", "x"),
            "row 2 (a.jpg): notes: unknown field (known: sku, category, attrs, price"),
    BadCase("csv-price-nan", _csv("price", "nan"), "row 2 (a.jpg): price 'nan' is not a valid"),
    BadCase("csv-price-inf", _csv("price", "inf"), "row 2 (a.jpg): price 'inf' is not a valid"),
    BadCase("csv-split-unknown", _csv("split", "holdout"),
            "row 2 (a.jpg): split: 'holdout' is not one of train, val, test"),
    BadCase("csv-brand-control", _csv("brand", "A\x07B"),
            "row 2 (a.jpg): brand: contains a control character"),
    BadCase("broken-metadata-json", _with_image("metadata.json", '[{"file": "a.jpg",'),
            "rejected metadata.json: invalid JSON at line 1"),
    BadCase("metadata-json-not-list", _with_image("metadata.json", '"a.jpg"'),
            "rejected metadata.json: expected a list of objects, got str"),
    BadCase("broken-analysis-in-folder", _folder({"crop_0.jpg": jpeg_bytes(seed=902),
                                                  "analysis.json": '{"items": [{'}),
            "rejected analysis.json: invalid JSON at line 1"),
    BadCase("analysis-not-items", _folder({"crop_0.jpg": jpeg_bytes(seed=902),
                                           "analysis.json": "[1, 2]"}),
            "rejected analysis.json: expected an object with an 'items' list"),
    BadCase("analysis-1x1-crop", _analysis([{"crop_file": "crop_0.jpg"}], crop=sized_png(1, 1)),
            "rejected crop_0.jpg: too small: 1x1 px"),
    BadCase("analysis-operator-sku", _analysis([{"crop_file": "crop_0.jpg", "sku": "$ne"}]),
            "analysis.json: item 0: sku: '$ne' starts with '$'"),
    BadCase("analysis-svg-crop", _folder({"crop.svg": SVG, "analysis.json": json.dumps(
            {"items": [{"crop_file": "crop.svg"}]})}),
            "rejected crop.svg: unsupported format .svg"),
    BadCase("class-folder-operator", _folder({"$where/x.jpg": jpeg_bytes(seed=904)}),
            "rejected $where/x.jpg: category: '$where' starts with '$'"),
    BadCase("file-name-newline", _folder({"red\ntee.jpg": jpeg_bytes(seed=905)}),
            "rejected red\\ntee.jpg: name: contains a control character"),
    BadCase("label-csv-1x1", _label_csv("dot.png,0\n", {"dot.png": sized_png(1, 1)}),
            "rejected dot.png: too small: 1x1 px"),
    BadCase("label-csv-operator-column", _label_csv("a.jpg,0,x\n", {"a.jpg": jpeg_bytes()},
                                                    extra=",$where"),
            "rejected labels.csv: row 2: field: invalid name '$where'"),
    BadCase("demo-operator-colour", _demo({"color": {"$gt": ""}}),
            "rejected items.jsonl: line 1: attrs.color: expected text, got an object"),
)
