"""Real, deterministic output images: the same key and size always give the same bytes."""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw, ImageOps

Kind = Literal["full", "low_res"]

# Production serves full-size results as JPEG (quality 95) and previews as small WebP files.
_JPEG_QUALITY = 95
_LOW_RES_LONG_SIDE = 256  # not a contract bound: preview size
MEDIA_TYPES: dict[Kind, str] = {"full": "image/jpeg", "low_res": "image/webp"}


@dataclass(frozen=True)
class OutputImage:
    """What one output URL shows. `face_key` is shared by a request's images, `key` is unique to one image."""

    width: int
    height: int
    face_key: bytes
    key: bytes
    kind: Kind


def floor_to_multiple_of_8(pixels: int) -> int:
    """Production floors each requested side to a multiple of 8."""
    return pixels - pixels % 8  # not a contract bound: production's latent grid


def digest(*parts: object) -> bytes:
    """A stable 32-byte key from any printable parts."""
    return hashlib.sha256(repr(parts).encode()).digest()


def render(image: OutputImage) -> bytes:
    """The encoded bytes for one output: JPEG at full size, WebP for the preview."""
    return _render_cached(image)


@functools.lru_cache(maxsize=32)
def _render_cached(image: OutputImage) -> bytes:
    picture = _paint(image.width, image.height, image.face_key, image.key)
    buffer = io.BytesIO()
    if image.kind == "full":
        picture.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    else:
        picture.thumbnail((_LOW_RES_LONG_SIDE, _LOW_RES_LONG_SIDE))
        picture.save(buffer, format="WEBP", quality=80)
    return buffer.getvalue()


def _paint(width: int, height: int, face_key: bytes, key: bytes) -> Image.Image:
    """A gradient background unique to the image, with the same stylised face across one request."""
    dark, light = _colour(key, 0), _colour(key, 3)
    gradient = Image.linear_gradient("L").rotate(key[6] % 4 * 90).resize((width, height))
    picture = ImageOps.colorize(gradient, dark, light)
    draw = ImageDraw.Draw(picture)
    side = min(width, height)
    cx, cy = width // 2, height // 2
    rx, ry = side * 0.28, side * 0.36
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=_colour(face_key, 0), outline=(20, 20, 20), width=3)
    eye_y, eye_dx, eye_r = cy - ry * 0.2, rx * 0.4, max(3.0, side * 0.03)
    for eye_x in (cx - eye_dx, cx + eye_dx):
        draw.ellipse((eye_x - eye_r, eye_y - eye_r, eye_x + eye_r, eye_y + eye_r), fill=_colour(face_key, 3))
    mouth = (cx - rx * 0.45, cy + ry * 0.25, cx + rx * 0.45, cy + ry * 0.6)
    draw.arc(mouth, start=20, end=160, fill=(40, 20, 20), width=max(2, side // 100))
    return picture


def _colour(key: bytes, offset: int) -> tuple[int, int, int]:
    return key[offset], key[offset + 1], key[offset + 2]
