"""A gzip stream assembled from pieces compressed once and reused across scrapes.

Each piece is deflated on its own and ended with a sync flush, which byte-aligns it and
leaves no reference to data before it; so compressed pieces can be concatenated into one
valid deflate stream (as pigz does). The gzip trailer needs the CRC-32 of the whole text:
it is combined from the pieces' CRCs, so unchanged pieces cost nothing to compress again.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from functools import lru_cache

LEVEL = 6  # level 9 costs about three times as much for a few percent less
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no mtime, unknown OS
_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """Multiply ``a`` by ``b`` modulo the CRC-32 polynomial (reflected, as in zlib)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _powers() -> list[int]:
    table = [1 << 30]  # x^1
    for _ in range(31):
        table.append(_multmodp(table[-1], table[-1]))
    return table


_X2N = _powers()  # x^(2^n) modulo the polynomial


@lru_cache(maxsize=8192)  # chunk lengths repeat: a changed chunk often keeps its length
def shift_operator(length: int) -> int:
    """x^(8 * length) modulo the polynomial: what appending ``length`` bytes does to a CRC."""
    p, k, n = 1 << 31, 3, length
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


class Piece:
    """Bytes of the exposition, with their CRC and (computed once, on demand) deflate form."""

    __slots__ = ("_deflated", "crc", "data", "shift")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.crc = zlib.crc32(data)
        self.shift = shift_operator(len(data))
        self._deflated: bytes | None = None

    @property
    def deflated(self) -> bytes:
        """The piece deflated on its own, sync-flushed so pieces concatenate."""
        if self._deflated is None:
            compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
            self._deflated = compressor.compress(self.data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return self._deflated


_FINAL = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)


def gzip_pieces(pieces: Sequence[Piece]) -> bytes:
    """One gzip member holding the pieces' text, in order."""
    crc, size = 0, 0
    for piece in pieces:
        crc = _multmodp(piece.shift, crc) ^ piece.crc
        size += len(piece.data)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return b"".join([_HEADER, *(p.deflated for p in pieces), _FINAL, trailer])


def plain_pieces(pieces: Sequence[Piece]) -> bytes:
    """The pieces' text, in order."""
    return b"".join(p.data for p in pieces)
