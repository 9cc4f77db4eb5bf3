"""A gzip stream assembled from pieces compressed once and reused across scrapes.

Each piece is deflated on its own and ended with a sync flush, which byte-aligns it and
leaves no reference to data before it; so compressed pieces can be concatenated into one
valid deflate stream (as pigz does). The gzip trailer needs the CRC-32 of the whole text:
it is combined from the pieces' CRCs, so unchanged pieces cost nothing to compress again.

Compression, CRCs and their combination are zlib-ng's (the ``zlib-ng`` package, zlib's
API): its CRC-32 uses the processor's carry-less multiply, a few times faster than zlib's
on a chunk, and it exposes ``crc32_combine``, which Python's zlib does not; a scrape
combines a few hundred CRCs and computes one for each chunk it deflates again.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from zlib_ng import zlib_ng as zlib

LEVEL = 6  # level 9 costs about three times as much for a few percent less
FAST_LEVEL = 1  # for text deflated again at each change: a quarter of the time, 40% larger
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no mtime, unknown OS


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

    def parts(self) -> list[bytes]:
        """The deflate form, as parts to concatenate."""
        return [self.deflated]


def combine(pieces: Sequence[Piece | Group]) -> tuple[int, int]:
    """The CRC-32 and length of the pieces' text, in order."""
    crc, size = 0, 0
    for piece in pieces:
        crc = zlib.crc32_combine(crc, piece.crc, piece.size)
        size += piece.size
    return crc, size


class Group:
    """Pieces served one after another (a job family's chunks), with their CRC and length
    combined once."""

    __slots__ = ("crc", "pieces", "size")

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = tuple(pieces)
        self.crc, self.size = combine(self.pieces)

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
