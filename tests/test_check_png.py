"""The check's PNG writer: what Pillow reads back is the picture, pixel for pixel."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from niprep.check.png import png_bytes


def chunk_types(data: bytes) -> list[bytes]:
    """The chunk types of a PNG file, each chunk's CRC checked (Pillow does not)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        kinds.append(kind)
        at += 12 + length
    return kinds


@pytest.mark.parametrize("size", [(1, 1), (7, 3), (300, 41)])
def test_pixels_read_back_exactly(size):
    width, height = size
    pixels = np.random.default_rng(width).integers(0, 256, (height, width, 3), dtype=np.uint8)
    data = png_bytes(Image.fromarray(pixels, "RGB"))
    assert chunk_types(data) == [b"IHDR", b"IDAT", b"IEND"]
    picture = Image.open(io.BytesIO(data))
    assert (picture.mode, picture.size) == ("RGB", (width, height))
    assert np.array_equal(np.asarray(picture), pixels)


def test_other_modes_fail_in_one_line():
    with pytest.raises(ValueError, match="^png_bytes writes RGB pictures, got mode 'L'$"):
        png_bytes(Image.new("L", (2, 2)))
