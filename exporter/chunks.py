"""One job family's sample lines, kept once and deflated, and changed job by job.

The lines of a family are its jobs' *fragments* (a job's lines), in exposition order. They
are cut into chunks of about :data:`CHUNK_BYTES` (whole fragments), and a chunk keeps only
its deflate form (:class:`~exporter.deflate.Piece` with ``keep=False``), so the exposition's
text is held once, compressed. The offset of each job's fragment in its chunk is kept too:
a job that changed has its new fragment compared with its old one and, if they differ,
spliced in place of it; that chunk alone is then deflated again (at a faster level than
a chunk built whole: changed chunks are deflated at every scrape). A 64-bit hash of each
fragment is kept as well, so the chunks of a job whose fragment is the same are not even
inflated to compare.

A family is built fragment by fragment (:class:`Builder`), each chunk deflated as soon as it
is full: building one never holds more than a chunk of text.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from itertools import groupby, pairwise

from exporter.deflate import FAST_LEVEL, Group, Piece

CHUNK_BYTES = 16 * 1024


class FamilyText:
    """The fragments of one job family, in job order, kept deflated in chunks."""

    __slots__ = ("chunks", "count", "firsts", "group", "hashes", "starts")

    def __init__(self) -> None:
        self.count = 0
        self.chunks: list[Piece] = []
        self.firsts: list[int] = []  # the position of each chunk's first job
        self.starts = array("I")  # each job's offset in its chunk's text
        self.hashes = array("q")  # each job's fragment's hash
        self.group = Group(())

    def fragments(self) -> Iterator[bytes]:
        """Every job's fragment, in job order."""
        for k, (first, end) in enumerate(pairwise([*self.firsts, self.count])):
            text = self.chunks[k].data
            bounds = [*self.starts[first:end], len(text)]
            for start, stop in pairwise(bounds):
                yield text[start:stop]

    def replace(self, changed: Mapping[int, bytes]) -> None:
        """Put the fragments of ``changed`` (by job position) in place of the kept ones; the
        chunks where none differs are kept as they are."""
        splices = self.splices(changed)
        if any([self.splice(k, fragments) for k, fragments in splices]):
            self.regroup()

    def splices(self, changed: Mapping[int, bytes]) -> list[tuple[int, list[tuple[int, bytes]]]]:
        """The chunks that may change, each with its jobs' new fragments (by position): the
        fragments whose hash differs from the kept one's. The hashes are kept: each chunk
        must then be given to :meth:`splice`, and :meth:`regroup` called."""
        hashes = self.hashes
        ordered = []
        for position in sorted(changed):
            digest = hash(changed[position])
            if digest != hashes[position]:
                hashes[position] = digest
                ordered.append(position)
        chunk_of = self.firsts
        return [
            (k, [(p, changed[p]) for p in positions])
            for k, positions in groupby(ordered, key=lambda p: bisect_right(chunk_of, p) - 1)
        ]

    def regroup(self) -> None:
        """Combine the chunks again, after :meth:`splice` changed some."""
        self.group = Group(self.chunks)

    def splice(self, k: int, changed: list[tuple[int, bytes]]) -> bool:
        """Splice the changed fragments into chunk ``k``; whether its text changed."""
        text = self.chunks[k].data
        last = self.firsts[k + 1] if k + 1 < len(self.firsts) else self.count
        starts = self.starts
        parts: list[bytes] = []
        moves: list[tuple[int, int]] = []  # (position, how far the fragments after it move)
        at = 0  # where the old text is copied from next
        for position, fragment in changed:
            start = starts[position]
            end = starts[position + 1] if position + 1 < last else len(text)
            if text[start:end] == fragment:
                continue
            parts += (text[at:start], fragment)
            at = end
            moves.append((position, len(fragment) - (end - start)))
        if not parts:
            return False
        parts.append(text[at:])
        self.chunks[k] = Piece(b"".join(parts), keep=False, level=FAST_LEVEL)
        moved = 0
        for (position, move), (following, _) in pairwise([*moves, (last - 1, 0)]):
            moved += move
            for after in range(position + 1, following + 1) if moved else ():
                starts[after] += moved
        return True


class Builder:
    """Builds a :class:`FamilyText` from its fragments, given in job order."""

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.family = FamilyText()
        self.chunk_bytes = chunk_bytes
        self._pending: list[bytes] = []
        self._size = 0

    def add(self, fragment: bytes) -> None:
        """The next job's fragment."""
        family = self.family
        if not self._pending:
            family.firsts.append(family.count)
        family.starts.append(self._size)
        family.hashes.append(hash(fragment))
        family.count += 1
        self._pending.append(fragment)
        self._size += len(fragment)
        if self._size >= self.chunk_bytes:
            self._flush()

    def done(self) -> FamilyText:
        """The family, its last chunk deflated."""
        if self._pending:
            self._flush()
        self.family.group = Group(self.family.chunks)
        return self.family

    def _flush(self) -> None:
        self.family.chunks.append(Piece(b"".join(self._pending), keep=False))
        self._pending, self._size = [], 0
