"""One attempt at an import run: its state, its chunks, and a checkpoint after each chunk."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from runner.core.config import CsvSource, ImportJob
from runner.core.events import RejectRecord
from runner.core.states import Level
from runner.core.storage.db import Database
from runner.core.wording import plural
from runner.executor.context import JobContext, JobFailed
from runner.executor.jobs import layout
from runner.executor.jobs.chunks import chunks, record_bytes, refused_texts
from runner.executor.jobs.convertproc import Chunk, Plan
from runner.executor.jobs.csvsource import Batch, CsvReader, Failure
from runner.executor.jobs.rawcopy import CsvCopy, expanded
from runner.executor.jobs.rows import Converted
from runner.executor.jobs.strategy import Strategy
from runner.executor.jobs.writers import Refusal, TableWriter

STATE_VERSION = 1
_SAMPLE = 64 * 1024


def fingerprint(path: Path) -> dict[str, Any]:
    """What identifies the file's content: path, size, mtime and a hash of both ends."""
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        digest.update(file.read(_SAMPLE))
        file.seek(max(0, stat.st_size - _SAMPLE))
        digest.update(file.read(_SAMPLE))
    return {
        "path": str(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": digest.hexdigest(),
    }


def initial_state(job: ImportJob, ctx: JobContext, source: Path) -> dict[str, Any]:
    """The checkpointed state to resume from (if the file is unchanged), else a new one."""
    previous = ctx.state
    if isinstance(previous, dict) and previous.get("version") == STATE_VERSION:
        if fingerprint(source) != previous["source"]:
            raise JobFailed(
                f"{job.source.path} changed since this run started; it cannot resume. "
                "Cancel this run and start the job again to import the new file."
            )
        return dict(previous)
    fmt = job.source
    return {
        "version": STATE_VERSION,
        "source": fingerprint(source),
        "offset": 0,
        "line": 0,
        "records": 0,
        "rows": 0,
        "rejects": 0,
        "header": None,
        "width": None,
        "csv": {
            "delimiter": fmt.delimiter,
            "quote": fmt.quote,
            "encoding": fmt.encoding,
            "header": None,
        },
    }


def remaining(state: dict[str, Any]) -> int:
    """The bytes of the file left to read."""
    return int(state["source"]["size"]) - int(state["offset"])


class _SourceChanged(Exception):
    """The source file changed while it was read (raised inside a transaction: no row of
    the chunks read since the last checkpoint is kept)."""


@dataclass(frozen=True)
class Destination:
    """Where rows go: the database, whether it is jobmon's own, and the table's writer."""

    db: Database
    own: bool
    writer: TableWriter


class ImportRun:
    """One attempt at a run: from the checkpoint (or the start) to the end of the file."""

    def __init__(
        self,
        job: ImportJob,
        ctx: JobContext,
        source: Path,
        to: Destination,
        how: Strategy,
        state: dict[str, Any],
    ) -> None:
        self.job, self.ctx, self.source, self.how, self.state = job, ctx, source, how, state
        self.db, self.own, self.writer = to.db, to.own, to.writer
        self.csv = CsvCopy.of(job, to.writer.table)
        self.positions: list[int] = []

    def run(self) -> None:
        """Read, validate and write chunk after chunk, checkpointing each."""
        state = self.state
        # Each chunk keeps the bytes it was read from, to store rejected records as read.
        with CsvReader(
            self.source,
            self.job.source,
            offset=state["offset"],
            line=state["line"],
            keep_bytes=True,
        ) as reader:
            positions = layout.positions(self.job, state, reader, self.source)
            if positions is None:
                self._finish_empty(reader)
                return
            self.positions = positions
            produced = chunks(self.how, self._plan(positions), self.job, reader)
            with closing(produced) as chunked:
                while not self._commit(chunked):
                    pass
        self.ctx.journal(
            Level.INFO,
            f"imported {plural(self.state['rows'], 'row')} from {self.job.source.path} "
            f"({plural(self.state['records'], 'record')} read, {self.state['rejects']:,} rejected)",
        )

    def _plan(self, positions: list[int]) -> Plan:
        state = self.state
        return Plan(
            self.job.model_dump(by_alias=True),
            str(self.source),
            state["offset"],
            state["line"],
            positions,
            state["width"],
            self.how.output,
            self.how.reading != "records",
            self.how.reading == "raw",
            self.how.read_rows,
        )

    def _finish_empty(self, reader: CsvReader) -> None:
        what = "has no header row" if self.job.source.header else "has no records"
        self.ctx.journal(Level.WARNING, f"{self.job.source.path} is empty ({what})")
        self.state["offset"], self.state["line"] = reader.offset, reader.line
        self.ctx.checkpoint(self.state)

    def _read_back(self, begin: int, end: int) -> bytes:
        """The file's bytes from ``begin`` to ``end``, as a chunk read them (the file is
        checked unchanged after each chunk is read)."""
        with self.source.open("rb") as file:
            file.seek(begin)
            return file.read(end - begin)

    def _check_unchanged(self) -> None:
        stat = self.source.stat()
        known = self.state["source"]
        if (stat.st_size, stat.st_mtime_ns) != (known["size"], known["mtime_ns"]):
            raise _SourceChanged

    def _group(self, group: list[Chunk], chunked: Iterator[Chunk]) -> Iterator[Chunk]:
        """The chunks of one transaction: those it took already (a transaction that lost its
        connection runs again), then more as they come, until it holds the strategy's
        ``transaction_rows``, the file ends, or its rejects pass ``max_rejects`` (no more is
        committed past the limit than with one chunk per transaction)."""
        yield from list(group)
        while not self._complete(group):
            yield self._take(group, chunked)

    def _take(self, group: list[Chunk], chunked: Iterator[Chunk]) -> Chunk:
        """The next chunk, added to ``group``."""
        chunk = next(chunked)
        self._check_unchanged()
        group.append(chunk)
        return chunk

    def _complete(self, group: list[Chunk]) -> bool:
        """Whether ``group`` (one chunk or more) makes a whole transaction."""
        if group[-1][0].eof or len(group) >= self.how.transaction_rows // self.how.read_rows:
            return True
        rejects = sum(len(c.rejects) + len(b.failures) for b, c in group)
        limit = self.ctx.max_rejects
        return limit is not None and self.ctx.rejected + rejects > limit

    def _commit(self, chunked: Iterator[Chunk]) -> bool:
        """Write the next chunks, their rejects, progress and the checkpoint in one
        transaction (see :mod:`imports`), writing each chunk as it comes; whether the file
        has ended."""
        state = dict(self.state)
        group: list[Chunk] = []
        written: list[int] = []

        def write(session: Session) -> None:
            written.extend(self._write_group(session, group, chunked, state))

        try:
            # The first chunk is read before the transaction begins: on SQLite a write
            # transaction holds the database's only write lock, which other jobs wait for.
            self._take(group, chunked)
            if self.own:
                self.ctx.checkpoint(state, write=write)
            else:
                with self.db.write() as session:
                    write(session)
                    self.ctx.check_claim()  # a runner that lost the run commits no rows
                self.ctx.checkpoint(state)
        except _SourceChanged:
            raise JobFailed(
                f"{self.job.source.path} changed while it was being imported; "
                f"{self.state['rows']} rows were imported before that"
            ) from None
        except JobFailed as exc:
            rows = state["rows"] if written else self.state["rows"]
            raise JobFailed(f"{exc} ({rows} rows imported)") from None
        self.state = state
        return bool(group[-1][0].eof)

    def _write_group(
        self, session: Session, group: list[Chunk], chunked: Iterator[Chunk], state: dict[str, Any]
    ) -> list[int]:
        """Write a transaction's chunks as they come, their lines kept as they are to one
        COPY, then each chunk's other rows and rejects; the rows each chunk wrote."""
        # The counts start from the last checkpoint's on every attempt: a checkpoint that
        # lost its connection runs this again.
        state.update({k: self.state[k] for k in ("records", "rows", "rejects")})
        start = self.state["line"], self.state["offset"]  # where the first chunk starts
        taken: list[tuple[Batch, Converted, tuple[int, int]]] = []
        with self.csv.stream(session) as stream:
            for batch, converted in self._group(group, chunked):
                if converted.raw_lines:
                    stream.write(converted.raw)
                taken.append((batch, converted, start))
                start = state["line"], state["offset"] = batch.line, batch.offset
            kept = stream.close()
        return [self._write(session, b, c, state, first, kept) for b, c, first in taken]

    def _write(
        self,
        session: Session,
        batch: Batch,
        converted: Converted,
        state: dict[str, Any],
        start: tuple[int, int],
        kept: bool,
    ) -> int:
        """Write the rest of one chunk (it starts after line and at offset ``start``; its
        lines kept as they are are written, unless the database refused them) and its rejects;
        its counts go to ``state``."""
        if converted.raw_lines and not kept:
            converted = expanded(converted, self.job, self.positions, state["width"])
        refused = self.writer.write(session, converted.rows)
        if not batch.data and (refused or any(r.raw is None for r in converted.rejects)):
            batch.data = self._read_back(start[1], batch.offset)
        rejects = _rejects(batch, converted, refused, self.job.source, start[0])
        for r in rejects:
            self.ctx.reject(r.line, r.record, r.field, r.reason, r.message, raw=r.raw)
        rows = len(converted.rows) + len(converted.raw_lines)
        records = rows + len(converted.rejects) + len(batch.failures)
        self.ctx.progress(records)
        state["records"] += records
        state["rows"] += rows - len(refused)
        state["rejects"] += len(rejects)
        return rows - len(refused)


def _rejects(
    batch: Batch, converted: Converted, refused: list[Refusal], fmt: CsvSource, line: int
) -> list[RejectRecord]:
    """A chunk's rejects by line, each with its record as text and its bytes as read.

    The chunk starts where the last committed one ended, after ``line``.
    """
    texts = refused_texts(batch, converted, [r.index for r in refused], fmt, line)
    found = list(converted.rejects)
    for refusal in refused:
        at = converted.lines[refusal.index]
        found.append(RejectRecord(at, texts[at], None, refusal.reason, refusal.message))
    raws = record_bytes(batch, line, [r.line for r in found if r.raw is None])
    rejects = [r if r.raw is not None else replace(r, raw=raws[r.line]) for r in found]
    rejects += [_failure_reject(f) for f in batch.failures]
    rejects.sort(key=lambda r: r.line)
    return rejects


def _failure_reject(f: Failure) -> RejectRecord:
    return RejectRecord(f.line, f.raw, None, f.reason, f.message, f.data)
