"""Small inline thumbnails (data URIs) for tables that show a picture per row."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from core.images import ImageRejected, load_image


def thumbnail_uri(path: str | Path, size: int = 72) -> str | None:
    """A JPEG data URI of the image at ``path`` fitted in size×size, or None if unreadable."""
    try:
        img = load_image(path)
    except ImageRejected:
        return None
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
