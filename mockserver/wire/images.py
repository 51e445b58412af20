"""Real, deterministic output images: the same key and size always give the same bytes."""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from typing import Literal, NamedTuple

from PIL import Image, ImageDraw, ImageOps

from mockserver.wire.jpeg_bands import BAND_ROWS, encode_banded

Format = Literal["JPEG", "WEBP"]

# Production serves full-size results as JPEG (quality 95).
_JPEG_QUALITY = 95
_WEBP_QUALITY = 80
# The production backend takes sides up to 20,480 px; painting one would take 1.2 GB. So no picture is drawn
# more than this long a side: a larger JPEG is still sent at the size asked for, built band by band from the
# drawing (jpeg_bands.py); a larger WebP preview (production's) is sent at most this size (README, "Limits").
MAX_DRAWN_SIDE = 2048
# A large JPEG's 16-row bands are taken from at most this many distinct rows of the drawing, each encoded once
# and repeated: a 20,480 px square then costs 256 band encodes, not 1,280.
MAX_DISTINCT_BANDS = 256  # not a contract bound


@dataclass(frozen=True)
class ImageSpec:
    """How one kind of output is encoded and served."""

    format: Format
    media_type: str
    # The preview's longest side, or None for the requested size.
    long_side: int | None = None
    # The most bytes the file may take; quality steps down until it fits.
    max_bytes: int | None = None


@dataclass(frozen=True)
class OutputStyle:
    """What `result` and `low_res_urls` point to, as a fidelity profile describes them."""

    full: ImageSpec
    low_res: ImageSpec
    # Path of the preview under /outputs/: the contract's `low_res/` folder, or beside the full image.
    low_res_folder: str


class OutputImage(NamedTuple):
    """What one output URL shows. `face_key` is shared by a request's images, `key` is unique to one image.

    A named tuple: two are made per generated image and up to `max_outputs` are kept, and a tuple is built at
    a third of a frozen dataclass's cost.
    """

    width: int
    height: int
    face_key: bytes
    key: bytes
    spec: ImageSpec


def floor_to_multiple_of_8(pixels: int) -> int:
    """Production floors each requested side to a multiple of 8."""
    return pixels - pixels % 8  # not a contract bound: production's latent grid


def digest(*parts: object) -> bytes:
    """A stable 32-byte key from any printable parts."""
    return hashlib.sha256(repr(parts).encode()).digest()


@functools.lru_cache(maxsize=1024)
def face_key(seed: int, image_url: str) -> bytes:
    """The key of the face drawn for a reference image: a test sends the same few images again and again."""
    return digest(seed, image_url)


def render(image: OutputImage) -> bytes:
    """The encoded bytes for one output, as its spec says; at most MAX_DRAWN_SIDE squared pixels drawn."""
    width, height, spec = max(1, image.width), max(1, image.height), image.spec
    if spec.long_side is None and spec.format == "JPEG" and max(width, height) > MAX_DRAWN_SIDE:
        return _banded_jpeg(image, width, height)
    # A preview is drawn at its own size, not drawn large and shrunk.
    drawn_width, drawn_height = fit(width, height, min(spec.long_side or MAX_DRAWN_SIDE, MAX_DRAWN_SIDE))
    picture = _paint(drawn_width, drawn_height, image.face_key, image.key)
    quality = _JPEG_QUALITY if spec.format == "JPEG" else _WEBP_QUALITY
    while True:
        buffer = io.BytesIO()
        picture.save(buffer, format=spec.format, quality=quality)
        if spec.max_bytes is None or buffer.tell() <= spec.max_bytes or quality <= 5:
            return buffer.getvalue()
        quality -= 15


def fit(width: int, height: int, longest: int) -> tuple[int, int]:
    """`width` x `height` shrunk, keeping its aspect, until neither side passes `longest` (never enlarged)."""
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _banded_jpeg(image: OutputImage, width: int, height: int) -> bytes:
    drawn_width, drawn_height = fit(width, height, MAX_DRAWN_SIDE)
    drawing = _paint(drawn_width, drawn_height, image.face_key, image.key)
    bands = -(-height // BAND_ROWS)
    # Consecutive bands share a drawn row, so at most MAX_DISTINCT_BANDS are encoded.
    group = -(-bands // MAX_DISTINCT_BANDS)
    made: dict[tuple[int, int], Image.Image] = {}

    def band(index: int) -> Image.Image:
        first = index - index % group
        # The drawn row at the middle of this group of bands.
        middle = (first + min(group, bands - first) / 2) * BAND_ROWS
        row = min(drawn_height - 1, int(middle * drawn_height / height))
        rows = min(BAND_ROWS, height - index * BAND_ROWS)
        key = (row, rows)
        if key not in made:
            made.clear()  # bands come in order: an earlier row is never asked for again
            line = drawing.crop((0, row, drawn_width, row + 1))
            # Nearest neighbour: a smoothing filter costs ten times more, for a difference nobody tests.
            made[key] = line.resize((width, rows), Image.Resampling.NEAREST)
        return made[key]

    return encode_banded(width, height, band, quality=_JPEG_QUALITY)


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
