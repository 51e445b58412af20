"""A baseline JPEG of any size, encoded one band of 16 rows at a time, so memory stays that of one band.

Pillow (libjpeg) encodes a whole image held in memory: a 20,480 px square would need 1.2 GB of pixels. But a
JPEG scan may be cut by restart markers, after which the decoder starts afresh (DC predictions reset, the bit
stream byte-aligned), which is exactly where each separately encoded band starts and ends. So each band of
one MCU row (16 rows at 4:2:0 chroma subsampling) is encoded alone with the same quality, hence the same
quantisation tables and libjpeg's standard Huffman tables, and the scans are joined under one header that
declares the whole size and a restart interval of one MCU row (ITU-T T.81, B.2.4.4 and F.1.2.3).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

from PIL import Image

# 4:2:0: an MCU is 16 x 16 pixels, so a band is 16 rows (the last may be shorter).
BAND_ROWS = 16
_SUBSAMPLING_420 = 2
_SOI, _EOI, _SOF0, _SOS, _DRI = b"\xff\xd8", b"\xff\xd9", 0xC0, 0xDA, b"\xff\xdd"
# Markers with no length field (SOI, EOI, RSTn, TEM).
_STANDALONE = {0x01, 0xD8, 0xD9, *range(0xD0, 0xD8)}


class _Encoded:
    """One band encoded alone: the header up to its scan (kept for the first band only) and the scan data."""

    __slots__ = ("header", "scan")

    def __init__(self, jpeg: bytes) -> None:
        start = _scan_start(jpeg)
        if not jpeg.endswith(_EOI):
            raise ValueError("the encoder wrote something after the scan")
        self.header, self.scan = jpeg[:start], jpeg[start:-2]


def encode_banded(width: int, height: int, band: Callable[[int], Image.Image], *, quality: int) -> bytes:
    """A `width` x `height` JPEG whose band `index` (rows 16*index ...) is the RGB image `band(index)`.

    `band` must return an image `width` wide and 16 rows tall (the last band: what is left). It is called once
    per band, in order; a caller whose bands repeat may return the same image object again, and it is then
    encoded once.
    """
    bands = -(-height // BAND_ROWS)
    mcus_per_row = -(-width // BAND_ROWS)
    if mcus_per_row > 0xFFFF:
        raise ValueError(f"width {width} needs more MCUs a row than a restart interval holds")
    parts: list[bytes] = []
    header = b""
    last: tuple[Image.Image, _Encoded] | None = None
    for index in range(bands):
        picture = band(index)
        rows = min(BAND_ROWS, height - index * BAND_ROWS)
        if picture.size != (width, rows):
            raise ValueError(f"band {index} is {picture.size}, not {(width, rows)}")
        if last is None or last[0] is not picture:
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=quality, subsampling=_SUBSAMPLING_420)
            last = (picture, _Encoded(buffer.getvalue()))
        encoded = last[1]
        if index == 0:
            header = _whole(encoded.header, width, height, mcus_per_row)
        parts.append(encoded.scan)
        if index < bands - 1:
            # RST0..RST7, in turn.
            parts.append(b"\xff%c" % (0xD0 + index % 8))  # not a contract bound
    return b"".join([header, *parts, _EOI])


def _scan_start(jpeg: bytes) -> int:
    """Where the entropy-coded data of a one-scan JPEG begins (just after its SOS segment)."""
    position = 2
    while position < len(jpeg):
        marker = jpeg[position + 1]
        if jpeg[position] != 0xFF:
            raise ValueError("not a JPEG marker")
        if marker in _STANDALONE:
            position += 2
            continue
        position += 2 + int.from_bytes(jpeg[position + 2 : position + 4], "big")
        if marker == _SOS:
            return position
    raise ValueError("no scan in the encoder's output")


def _whole(header: bytes, width: int, height: int, mcus_per_row: int) -> bytes:
    """The first band's header, declaring the whole image and a restart interval of one MCU row."""
    out = bytearray(header)
    position = 2
    while True:
        marker = out[position + 1]
        length = int.from_bytes(out[position + 2 : position + 4], "big")
        if marker == _SOF0:
            # SOF0: length, precision, height, width, ...
            out[position + 5 : position + 9] = struct.pack(">HH", height, width)
        if marker == _SOS:
            restart = _DRI + struct.pack(">HH", 4, mcus_per_row)
            return bytes(out[:position]) + restart + bytes(out[position:])
        position += 2 + length
