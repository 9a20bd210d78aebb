"""Image decoding and validation shared by ingest, the upload/search pages and the models.

Every image that enters the product goes through :func:`load_image`: it returns a plain RGB
image with the EXIF rotation applied, or raises :class:`ImageRejected` with a one-line reason
that names the file. Decompression bombs are refused from the header, before any decoding.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000
MAX_BYTES = 50 * 1024 * 1024
MIN_SIDE = 32  # catalog images and query photos: shorter side in pixels
# The one list of image files the product takes (ingest, search, uploads, dataset readers).
IMAGE_EXTS = (".jpg", ".jpeg", ".jfif", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
# What the decoded content may be (MPO: multi-picture JPEGs from phone cameras).
IMAGE_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF",
                 "BMP": "BMP", "TIFF": "TIFF"}
JPEG_QUALITY = 92
WHITE = (255, 255, 255)

# Truncated files must fail loudly, never decode into half-grey pictures.
ImageFile.LOAD_TRUNCATED_IMAGES = False

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
# warnings.catch_warnings swaps process-wide state: decoders take turns (app sessions are threads).
_DECODE_LOCK = threading.Lock()


class ImageRejected(ValueError):
    """An input that is not a usable image; ``str()`` is "file: reason" on one line."""

    def __init__(self, file: str, reason: str):
        self.file = file
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{file}: {self.reason}")


@dataclass
class Decoded:
    """A validated image plus what the caller needs to store it."""

    image: Image.Image  # RGB, EXIF rotation applied
    format: str  # the container format PIL detected (JPEG, PNG, GIF, ...)
    unchanged: bool  # True when the original bytes already are a plain RGB JPEG


def unsupported_suffix(name: str) -> str | None:
    """The reason a file name's extension is refused, or None when it is a supported one."""
    suffix = Path(name).suffix.lower()
    if suffix in IMAGE_EXTS:
        return None
    shown = f"format {suffix}" if suffix else "format (no file extension)"
    return f"unsupported {shown} (supported: {', '.join(IMAGE_EXTS)})"


def check_suffix(name: str) -> None:
    """ImageRejected unless ``name`` ends in a supported image extension."""
    reason = unsupported_suffix(name)
    if reason:
        raise ImageRejected(Path(name).name, reason)


def content_hash(data: bytes) -> str:
    """The sha256 hex digest of the original file bytes (the catalog's duplicate key)."""
    return hashlib.sha256(data).hexdigest()


def read_source(source: str | Path | bytes, *, name: str | None = None,
                max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    """Read a path or bytes with the size checks; returns (data, display name)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label = name or "upload"
    else:
        path = Path(source)
        label = name or path.name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ImageRejected(label, "file not found") from None
        except OSError as exc:
            raise ImageRejected(label, f"cannot read file ({exc.strerror or exc})") from None
        if size > max_bytes:
            raise ImageRejected(label, f"file too large ({_mb(size)} > {_mb(max_bytes)})")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageRejected(label, f"cannot read file ({exc.strerror or exc})") from None
    if not data:
        raise ImageRejected(label, "empty file (0 bytes)")
    if len(data) > max_bytes:
        raise ImageRejected(label, f"file too large ({_mb(len(data))} > {_mb(max_bytes)})")
    return data, label


def load_image(source: str | Path | bytes, *, name: str | None = None,
               max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES,
               min_side: int = 0) -> Image.Image:
    """Decode a file or bytes into an RGB image, or raise ImageRejected naming the file."""
    data, label = read_source(source, name=name, max_bytes=max_bytes)
    return decode_bytes(data, label, max_pixels=max_pixels, min_side=min_side).image


def load_photo(source: str | Path | bytes, *, name: str | None = None) -> Image.Image:
    """A photo a person gives (query, upload) under the rules of ingest: a supported
    extension (a path's always, an upload's when its name has one), a supported content
    format and at least MIN_SIDE px on the short side."""
    is_path = not isinstance(source, bytes | bytearray | memoryview)
    label = name or (Path(source).name if is_path else "")
    if is_path or Path(label).suffix:
        check_suffix(label)
    return load_image(source, name=name, min_side=MIN_SIDE)


def decode_bytes(data: bytes, name: str, *, max_pixels: int = MAX_PIXELS,
                 min_side: int = 0) -> Decoded:
    """Validate and fully decode ``data``; format, size and pixel cap are checked from the
    header first."""
    if not data:
        raise ImageRejected(name, "empty file (0 bytes)")
    with _DECODE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            kind = _signature(data)
            if kind:
                raise ImageRejected(name, f"corrupt image (unreadable {kind} header)") from None
            raise ImageRejected(name, "not an image (unrecognised file format)") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(name, f"decompression bomb refused ({exc})") from None
        except Exception as exc:  # plugins raise many types on hostile headers
            raise ImageRejected(name, f"truncated or corrupt image ({_why(exc)})") from None
        fmt = img.format or "unknown"
        _check_header(name, fmt, img.size, min_side)
        width, height = img.size
        drafted = width * height > max_pixels and _draft(img, fmt, max_pixels)
        if img.size[0] * img.size[1] > max_pixels:
            raise ImageRejected(
                name, f"image too large: {width}x{height} = {width * height:,} pixels "
                f"(limit {max_pixels:,}; decompression bomb refused)")
        try:
            img.seek(0)  # animated GIF/WebP/APNG: keep the first frame
            img.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(name, f"decompression bomb refused ({exc})") from None
        except MemoryError:
            raise ImageRejected(name, "image too large to decode (out of memory)") from None
        except Exception as exc:  # decoders raise OSError, SyntaxError, struct.error, ...
            raise ImageRejected(name, _decode_problem(exc)) from None
    orientation = _orientation(img)
    unchanged = fmt == "JPEG" and img.mode == "RGB" and orientation in (0, 1) and not drafted
    img = _apply_orientation(img, orientation)
    try:
        rgb = to_rgb(img)
    except (OSError, ValueError) as exc:
        raise ImageRejected(name, f"unsupported colour mode {img.mode} ({_why(exc)})") from None
    return Decoded(image=rgb, format=fmt, unchanged=unchanged)


def _draft(img: Image.Image, fmt: str, max_pixels: int) -> bool:
    """Decode a JPEG over the pixel limit (a 48-megapixel phone photo) at 1/2, 1/4 or 1/8
    of its size, the first that fits, as its decoder can; False for other formats."""
    if IMAGE_FORMATS.get(fmt) != "JPEG":
        return False
    width, height = img.size
    scale = next((k for k in (2, 4, 8) if (width // k) * (height // k) <= max_pixels), 8)
    img.draft("RGB", (width // scale, height // scale))
    return True


def _check_header(name: str, fmt: str, size: tuple[int, int], min_side: int) -> None:
    if fmt not in IMAGE_FORMATS:
        supported = ", ".join(dict.fromkeys(IMAGE_FORMATS.values()))
        raise ImageRejected(name, f"unsupported format {fmt} (supported: {supported})")
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageRejected(name, f"invalid image size {width}x{height}")
    if min(width, height) < min_side:
        raise ImageRejected(name, f"too small: {width}x{height} px (minimum {min_side} px on "
                            "the short side)")


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode to RGB: alpha composited on white, 16-bit and float scaled, CMYK converted."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _wide_to_rgb(img)
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, WHITE + (255,))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    if img.mode == "1":
        img = img.convert("L")
    return img.convert("RGB")


def _wide_to_rgb(img: Image.Image) -> Image.Image:
    """16/32-bit integer or float greyscale to 8-bit RGB without clipping to white."""
    arr = np.asarray(img, dtype=np.float64)
    if img.mode == "F":
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
    elif img.mode.startswith("I;16") or arr.max(initial=0) > 255:
        scaled = arr / 257.0  # 0..65535 -> 0..255
    else:
        scaled = arr
    grey = np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(grey, mode="L").convert("RGB")


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 0) or 0)
    except (OSError, ValueError, TypeError, SyntaxError):
        return 0  # unreadable EXIF: keep the pixels as stored


def _apply_orientation(img: Image.Image, orientation: int) -> Image.Image:
    if orientation in (0, 1):
        return img
    try:
        return ImageOps.exif_transpose(img)
    except (OSError, ValueError, TypeError, SyntaxError):
        return img


def square_pad(img: Image.Image, fill: tuple[int, int, int] = WHITE) -> Image.Image:
    """Pad to a centred square (tall garments are padded, never squashed)."""
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    canvas = Image.new(img.mode, (side, side), fill if img.mode == "RGB" else 255)
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas


def save_normalized(img: Image.Image, path: str | Path) -> Path:
    """Write ``img`` as an RGB JPEG (quality 92) atomically: temp file, then os.replace."""
    buf = io.BytesIO()
    to_rgb(img).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return write_atomic(buf.getvalue(), path)


def write_atomic(data: bytes, path: str | Path) -> Path:
    """Write bytes so that ``path`` either does not exist or holds the whole content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF8", "GIF"),
               (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))


def _signature(data: bytes) -> str | None:
    """The image format a file claims by its magic bytes, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def _decode_problem(exc: BaseException) -> str:
    """Why the pixels could not be decoded, in words ("the file ends early" for Pillow's
    "image file is truncated (6 bytes not processed)")."""
    why = _why(exc)
    if "truncated" in why.lower():
        return "truncated or corrupt image (the file ends early: it may not have been saved or " \
               "downloaded completely)"
    return f"truncated or corrupt image ({why})"


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"
