"""The add-in's icons: Office wants PNG files at fixed sizes; a flat square in crmsync's colour
is drawn here rather than shipped as binary files."""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

ICON_SIZES = frozenset({16, 32, 64, 80, 128})
_COLOUR = bytes((0x1F, 0x5F, 0x99))


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@lru_cache(maxsize=len(ICON_SIZES))
def square_png(size: int) -> bytes:
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    row = b"\x00" + _COLOUR * size  # filter type 0, then the pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * size))
        + _chunk(b"IEND", b"")
    )
