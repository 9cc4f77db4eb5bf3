"""An import's chunks, produced as its strategy says, and the source text of refused rows."""

from __future__ import annotations

import io
from collections.abc import Generator

from runner.core.config import CsvFormat, ImportJob
from runner.executor.context import JobFailed
from runner.executor.jobs.convertproc import ChildFailed, Chunk, Plan, ProcessChunks
from runner.executor.jobs.csvsource import Batch, CsvReader
from runner.executor.jobs.prefetch import Prefetch
from runner.executor.jobs.rows import Converted, RowConverter, format_record
from runner.executor.jobs.strategy import Strategy


def chunks(
    how: Strategy, plan: Plan, job: ImportJob, reader: CsvReader
) -> Generator[Chunk, None, None]:
    """Chunk after chunk from ``plan``'s start, by ``how.producer`` (see the strategy)."""
    if how.producer == "process":
        yield from _child_chunks(plan, job)
        return
    converter = RowConverter(job.columns, plan.positions, plan.width, job.source, plan.output)

    def produce() -> Chunk:
        batch = reader.read(job.chunk_rows)
        return batch, converter.convert(batch.records, batch.lines)

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


def _child_chunks(plan: Plan, job: ImportJob) -> Generator[Chunk, None, None]:
    with ProcessChunks(plan) as produced:
        try:
            yield from produced
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
