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
FAST_LEVEL = 1  # for text deflated again at each change: half the time, a sixth larger
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


def deflate(data: bytes, level: int = LEVEL) -> bytes:
    """``data`` deflated on its own, sync-flushed so it concatenates with other pieces."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def inflate(deflated: bytes) -> bytes:
    """The text of a piece deflated by :func:`deflate`."""
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(deflated)


class Piece:
    """Bytes of the exposition, with their CRC and deflate form.

    A small piece keeps its text and deflates it once, on demand. A piece made with
    ``keep=False`` (the job families' chunks, most of the exposition) keeps only its deflate
    form and inflates it when its text is asked for: a plain-text scrape, or a change to
    one of its jobs.
    """

    __slots__ = ("_data", "_deflated", "crc", "size")

    def __init__(self, data: bytes, keep: bool = True, level: int = LEVEL) -> None:
        self.crc = zlib.crc32(data)
        self.size = len(data)
        self._data: bytes | None = data if keep else None
        self._deflated: bytes | None = None if keep else deflate(data, level)

    @property
    def data(self) -> bytes:
        """The piece's text."""
        if self._data is not None:
            return self._data
        assert self._deflated is not None
        return inflate(self._deflated)

    @property
    def deflated(self) -> bytes:
        """The piece deflated on its own, sync-flushed so pieces concatenate."""
        if self._deflated is None:
            assert self._data is not None
            self._deflated = deflate(self._data)
        return self._deflated

    @property
    def shift(self) -> int:
        """What appending the piece does to a CRC (see :func:`shift_operator`)."""
        return shift_operator(self.size)

    def parts(self) -> list[bytes]:
        """The deflate form, as parts to concatenate."""
        return [self.deflated]


def combine(pieces: Sequence[Piece | Group]) -> tuple[int, int]:
    """The CRC-32 and length of the pieces' text, in order."""
    crc, size = 0, 0
    for piece in pieces:
        crc = _multmodp(piece.shift, crc) ^ piece.crc
        size += piece.size
    return crc, size


class Group:
    """Pieces served one after another (a job family's chunks), with their CRC and length
    combined once."""

    __slots__ = ("crc", "pieces", "shift", "size")

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = tuple(pieces)
        self.crc, self.size = combine(self.pieces)
        self.shift = shift_operator(self.size)

    @property
    def data(self) -> bytes:
        """The pieces' text."""
        return b"".join([p.data for p in self.pieces])

    def parts(self) -> list[bytes]:
        """The pieces' deflate forms, in order."""
        return [p.deflated for p in self.pieces]


_FINAL = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)


def gzip_pieces(pieces: Sequence[Piece | Group]) -> bytes:
    """One gzip member holding the pieces' text, in order."""
    crc, size = combine(pieces)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return b"".join([_HEADER, *(part for p in pieces for part in p.parts()), _FINAL, trailer])


def plain_pieces(pieces: Sequence[Piece | Group]) -> bytes:
    """The pieces' text, in order."""
    return b"".join([p.data for p in pieces])
