"""An import's chunks, produced as its strategy says, and the source text and bytes of the
records it rejects."""

from __future__ import annotations

import io
from bisect import bisect_right
from collections.abc import Callable, Generator, Iterable
from dataclasses import replace

from runner.core.config import CsvFormat, ImportJob
from runner.executor.context import JobFailed
from runner.executor.jobs.convertproc import ChildFailed, Chunk, Plan, ProcessChunks
from runner.executor.jobs.csvsource import Batch, CsvReader
from runner.executor.jobs.linecheck import producer
from runner.executor.jobs.prefetch import Prefetch
from runner.executor.jobs.rows import Converted, format_record
from runner.executor.jobs.strategy import Strategy


def chunks(
    how: Strategy, plan: Plan, job: ImportJob, reader: CsvReader
) -> Generator[Chunk, None, None]:
    """Chunk after chunk from ``plan``'s start, by ``how.producer`` (see the strategy)."""
    lines, raw = how.reading != "records", how.reading == "raw"
    produce = producer(
        job, plan.positions, plan.width, plan.output, reader, lines=lines, rows=plan.rows, raw=raw
    )

    if how.producer == "process":
        yield from _child_chunks(plan, job, produce)
        return
    if how.producer == "thread":
        with Prefetch(produce, _is_last) as prefetched:
            yield from prefetched
        return
    while True:
        chunk = produce()
        yield chunk
        if _is_last(chunk):
            return


def _is_last(chunk: Chunk) -> bool:
    return chunk[0].eof


def _child_chunks(
    plan: Plan, job: ImportJob, produce: Callable[[], Chunk]
) -> Generator[Chunk, None, None]:
    """Chunks produced here while the child process starts, then by the child from where
    those end."""
    with ProcessChunks() as child:
        while not child.ready():
            chunk = produce()
            yield chunk
            if _is_last(chunk):
                return
            plan = replace(plan, offset=chunk[0].offset, line=chunk[0].line)
        try:
            child.send(plan)
            yield from child
        except ChildFailed as exc:
            raise JobFailed(f"reading {job.source.path}: {exc}") from None


def refused_texts(
    batch: Batch, converted: Converted, indices: list[int], fmt: CsvFormat, line: int
) -> dict[int, str]:
    """The source text of the rows at ``indices`` of a chunk, by line.

    From the records when they are at hand, else parsed again from the bytes the chunk was
    read from (its first line follows ``line``): the same text either way.
    """
    if not indices:
        return {}
    if converted.records:
        return {converted.lines[i]: format_record(converted.records[i], fmt) for i in indices}
    wanted = {converted.lines[i] for i in indices}
    texts: dict[int, str] = {}
    with CsvReader(io.BytesIO(batch.data), fmt, line=line) as reader:
        while wanted - texts.keys():
            read = reader.read(len(batch.lines) + 1)
            for number, record in zip(read.lines, read.records, strict=True):
                if number in wanted:
                    texts[number] = format_record(record, fmt)
            if read.eof:
                break
    return texts


def record_bytes(batch: Batch, line: int, wanted: Iterable[int]) -> dict[int, bytes]:
    """The bytes of the records of a chunk that start at the ``wanted`` lines, by line.

    Each record's lines run until the next record or failure of the chunk starts, its line
    break included. The chunk's bytes (its first line follows ``line``) are only split when
    it rejected something, and only as far as the last record wanted.
    """
    ends = {first: _last_line(batch, first) for first in wanted}
    if not ends:
        return {}
    parts = batch.data.split(b"\n", max(ends.values()) - line)
    found: dict[int, bytes] = {}
    for first, last in ends.items():
        begin, end = first - line - 1, last - line
        text = b"\n".join(parts[begin:end])
        found[first] = text + b"\n" if end < len(parts) else text
    return found


def _last_line(batch: Batch, first: int) -> int:
    """The last line of the record of ``batch`` that starts at line ``first``."""
    following = [batch.line + 1]
    at = bisect_right(batch.lines, first)
    if at < len(batch.lines):
        following.append(batch.lines[at])
    following += [f.line for f in batch.failures if f.line > first]
    return min(following) - 1
