"""The parts of a chunk the line route (:mod:`runner.executor.jobs.linecheck`) puts together:
the lines off its patterns, parsed one by one by the ``csv`` module and converted by the row
converter as the CSV path would, and their rows merged with the others in line order."""

from __future__ import annotations

import csv
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from runner.executor.jobs.fastrows import Row
from runner.executor.jobs.rows import Converted, RowConverter


class OffLines:
    """The lines of a chunk off the line patterns, parsed on their own for the row converter."""

    def __init__(self, options: dict[str, Any], text: str, line: int, encoding: str) -> None:
        self._options, self._text, self._line = options, text, line
        self._encoding = encoding  # the file's, which gives each line's bytes back as read
        self._texts: list[str] | None = None
        self.records: list[list[str]] = []
        self.lines: list[int] = []
        self.texts: list[str] = []

    def add(self, lines: Iterable[int]) -> bool:
        """Parse the ``lines``; False if one of them is not a record by itself."""
        if self._texts is None:
            self._texts = self._text.split("\n")
        texts = self._texts
        return all(self.add_line(texts[number - self._line - 1], number) for number in lines)

    def add_line(self, text: str, number: int) -> bool:
        """Parse line ``number``, ``text``; False if it is not a record by itself."""
        try:
            [record] = csv.reader([text], **self._options)
        except (csv.Error, ValueError):
            return False
        self.records.append(record)
        self.lines.append(number)
        self.texts.append(text)
        return True

    def converted(self, converter: RowConverter) -> Converted:
        """Their rows and rejects, in line order."""
        order = sorted(range(len(self.lines)), key=self.lines.__getitem__)
        records, lines = [self.records[i] for i in order], [self.lines[i] for i in order]
        done = converter.convert(records, lines)
        if done.rejects:  # each a whole line: its bytes as read, here rather than later
            texts = dict(zip(self.lines, self.texts, strict=True))
            raw = [f"{texts[r.line]}\n".encode(self._encoding) for r in done.rejects]
            done.rejects = [replace(r, raw=b) for r, b in zip(done.rejects, raw, strict=True)]
        return done


def merged(rows: list[Row], lines: list[int], others: Converted) -> Converted:
    """The rows from the pattern and the other records' rows and rejects, in line order."""
    if not others.rows:
        return Converted(rows, lines, [], others.rejects)
    done = Converted(rejects=others.rejects)
    start = 0
    for row, at in zip(others.rows, others.lines, strict=True):
        cut = bisect_left(lines, at, start)
        done.rows += rows[start:cut]
        done.lines += lines[start:cut]
        done.rows.append(row)
        done.lines.append(at)
        start = cut
    done.rows += rows[start:]
    done.lines += lines[start:]
    return done


def kept(size: int, failed: list[int]) -> list[bool]:
    """False at the indices ``failed``, True elsewhere, for ``size`` items."""
    found = [True] * size
    for i in failed:
        found[i] = False
    return found
