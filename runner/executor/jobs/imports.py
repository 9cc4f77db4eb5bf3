"""``kind: import``: a CSV file into a table, validated, in checkpointed chunks.

Each chunk is read and validated, then written with its rejects, its progress and the new
checkpoint (byte offset, line, counts). Into jobmon's own database all of that is one
transaction, so after a crash or a stop the run resumes exactly after the last committed
chunk: every accepted row lands once and every reject is recorded once. Into a named database
the rows commit first, then the checkpoint: a crash between the two replays one chunk, which
``mode: upsert`` absorbs (same outcome) and ``mode: insert`` may duplicate.

A resumed run refuses to go on if the file changed since the run started (size, modification
time, or a hash of its first and last 64 KiB).
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from runner.core.config import ImportJob
from runner.core.events import RejectRecord
from runner.core.states import Level
from runner.core.storage.db import Database
from runner.executor.context import JobContext, JobFailed
from runner.executor.jobs import paths, targets
from runner.executor.jobs.convertproc import ChildFailed, Chunk, Plan, ProcessChunks
from runner.executor.jobs.csvsource import Batch, CsvReader, Failure
from runner.executor.jobs.gcpause import fewer_collections
from runner.executor.jobs.prefetch import Prefetch
from runner.executor.jobs.rows import Converted, RowConverter, format_record
from runner.executor.jobs.targets import TableWriter, TargetError

STATE_VERSION = 1
# Files (the part left to read) at least this large are read by a child process.
PARALLEL_MIN_BYTES = 8 * 2**20
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


def target_database(job: ImportJob, ctx: JobContext) -> tuple[Database, bool]:
    """The database to write to, and whether it is jobmon's own."""
    return named_database(job.target.database, ctx)


def named_database(name: str | None, ctx: JobContext) -> tuple[Database, bool]:
    """jobmon's database for None, else the one configured under ``databases:``."""
    if name is None:
        return ctx.db, True
    if ctx.config is None or name not in ctx.config.databases:
        raise JobFailed(f'database "{name}" is not configured under databases:')
    return Database(ctx.config.databases[name].url), False


def execute(job: ImportJob, ctx: JobContext) -> None:
    """Run (or resume) an import."""
    try:
        source = paths.source_file(job.source.path, ctx.data_dirs)
    except paths.PathError as exc:
        raise JobFailed(f"source: {exc}") from None
    db, own = target_database(job, ctx)
    try:
        try:
            table = targets.prepare(db, job.target, job.columns, own=own)
        except TargetError as exc:
            raise JobFailed(f"target: {exc}") from None
        writer = TableWriter(table, job.target, db.dialect)
        with fewer_collections():
            ImportRun(job, ctx, source, db, own, writer).run()
    finally:
        if not own:
            db.dispose()


class ImportRun:
    """One attempt at a run: from the checkpoint (or the start) to the end of the file."""

    def __init__(
        self,
        job: ImportJob,
        ctx: JobContext,
        source: Path,
        db: Database,
        own: bool,
        writer: TableWriter,
    ) -> None:
        self.job, self.ctx, self.source, self.db, self.own = job, ctx, source, db, own
        self.writer = writer
        self.state: dict[str, Any] = self._initial_state()

    def _initial_state(self) -> dict[str, Any]:
        previous = self.ctx.state
        if isinstance(previous, dict) and previous.get("version") == STATE_VERSION:
            if fingerprint(self.source) != previous["source"]:
                raise JobFailed(
                    f"{self.job.source.path} changed since this run started; it cannot resume. "
                    "Cancel this run and start the job again to import the new file."
                )
            return dict(previous)
        fmt = self.job.source
        return {
            "version": STATE_VERSION,
            "source": fingerprint(self.source),
            "offset": 0,
            "line": 0,
            "records": 0,
            "rows": 0,
            "rejects": 0,
            "header": None,
            "width": None,
            "csv": {"delimiter": fmt.delimiter, "quote": fmt.quote, "header": None},
        }

    def run(self) -> None:
        """Read, validate and write chunk after chunk, checkpointing each."""
        with CsvReader(
            self.source, self.job.source, offset=self.state["offset"], line=self.state["line"]
        ) as reader:
            positions = self._layout(reader)
            if positions is None:
                self._finish_empty(reader)
                return
            with closing(self._chunks(reader, positions)) as chunks:
                for batch, converted in chunks:
                    self._check_unchanged()
                    self._commit(batch, converted)
        self.ctx.journal(
            Level.INFO,
            f"imported {self.state['rows']} rows from {self.job.source.path} "
            f"({self.state['records']} records read, {self.state['rejects']} rejected)",
        )

    def _chunks(self, reader: CsvReader, positions: list[int]) -> Generator[Chunk, None, None]:
        """Chunk after chunk. Into PostgreSQL, the next chunk is read and validated while the
        server works on the current one: by a child process for large files, else by a second
        thread (psycopg waits for the server without the GIL). Into SQLite and MariaDB the
        driver's own work is the larger part and happens in this process under the GIL: a
        second thread or process only adds to it (and would hold SQLite's write lock longer)."""
        remaining = self.state["source"]["size"] - self.state["offset"]
        if self.writer.output == "copy" and remaining >= PARALLEL_MIN_BYTES:
            yield from self._child_chunks(positions)
            return
        converter = RowConverter(
            self.job.columns, positions, self.state["width"], self.job.source, self.writer.output
        )

        def produce() -> Chunk:
            batch = reader.read(self.job.chunk_rows)
            return batch, converter.convert(batch.records, batch.lines)

        if self.writer.output == "copy":
            with Prefetch(produce, lambda chunk: chunk[0].eof) as prefetched:
                yield from prefetched
            return
        while True:
            chunk = produce()
            yield chunk
            if chunk[0].eof:
                return

    def _child_chunks(self, positions: list[int]) -> Generator[Chunk, None, None]:
        state = self.state
        plan = Plan(
            self.job.model_dump(by_alias=True),
            str(self.source),
            state["offset"],
            state["line"],
            positions,
            state["width"],
            self.writer.output,
        )
        with ProcessChunks(plan) as chunks:
            try:
                yield from chunks
            except ChildFailed as exc:
                raise JobFailed(f"reading {self.job.source.path}: {exc}") from None

    def _layout(self, reader: CsvReader) -> list[int] | None:
        """Each column's field position, once the header (or first record) is known."""
        if self.state["width"] is None:
            width = self._read_layout(reader)
            if width is None:
                return None
            self.state["width"] = width
        return self._positions(self.state["header"], self.state["width"])

    def _read_layout(self, reader: CsvReader) -> int | None:
        if self.job.source.header:
            header = reader.header()
            if isinstance(header, Failure):
                raise JobFailed(
                    f"cannot read the header row (line {header.line}): {header.message}"
                )
            if header is None:
                return None
            self.state["header"] = header
            self.state["csv"]["header"] = format_record(header, self.job.source)
            self.state["offset"], self.state["line"] = reader.offset, reader.line
            return len(header)
        return _first_width(self.source, self.job)

    def _positions(self, header: list[str] | None, width: int) -> list[int]:
        names = [h.strip() for h in header] if header is not None else None
        positions = []
        for i, column in enumerate(self.job.columns):
            wanted = column.source if column.source is not None else column.name
            if isinstance(wanted, int) or names is None:
                position = (wanted if isinstance(wanted, int) else i + 1) - 1
                if position >= width:
                    raise JobFailed(
                        f'column "{column.name}" reads field {position + 1}, '
                        f"but records have {width} fields"
                    )
            elif wanted.strip() in names:
                position = names.index(wanted.strip())
            else:
                raise JobFailed(
                    f'column "{column.name}": no field "{wanted}" in the header row '
                    f"({', '.join(names)})"
                )
            positions.append(position)
        return positions

    def _finish_empty(self, reader: CsvReader) -> None:
        what = "has no header row" if self.job.source.header else "has no records"
        self.ctx.journal(Level.WARNING, f"{self.job.source.path} is empty ({what})")
        self.state["offset"], self.state["line"] = reader.offset, reader.line
        self.ctx.checkpoint(self.state)

    def _check_unchanged(self) -> None:
        stat = self.source.stat()
        known = self.state["source"]
        if (stat.st_size, stat.st_mtime_ns) != (known["size"], known["mtime_ns"]):
            raise JobFailed(
                f"{self.job.source.path} changed while it was being imported; "
                f"{self.state['rows']} rows were imported before that"
            )

    def _commit(self, batch: Batch, converted: Converted) -> None:
        """Write the chunk, its rejects, progress and the checkpoint (see the module doc)."""
        state = dict(self.state)
        state["offset"], state["line"] = batch.offset, batch.line
        written: list[int] = []

        def write(session: Session) -> None:
            written.append(self._write(session, batch, converted, state))

        try:
            if self.own:
                self.ctx.checkpoint(state, write=write)
            else:
                with self.db.write() as session:
                    write(session)
                self.ctx.checkpoint(state)
        except JobFailed as exc:
            rows = state["rows"] if written else self.state["rows"]
            raise JobFailed(f"{exc} ({rows} rows imported)") from None
        self.state = state

    def _write(
        self, session: Session, batch: Batch, converted: Converted, state: dict[str, Any]
    ) -> int:
        refused = self.writer.write(session, converted.rows)
        rejects = [_failure_reject(f) for f in batch.failures] + converted.rejects
        texts = self._refused_texts(converted, [r.index for r in refused])
        for refusal in refused:
            line = converted.lines[refusal.index]
            rejects.append(RejectRecord(line, texts[line], None, refusal.reason, refusal.message))
        rejects.sort(key=lambda r: r.line)
        for reject in rejects:
            self.ctx.reject(reject.line, reject.record, reject.field, reject.reason, reject.message)
        records = len(converted.rows) + len(converted.rejects) + len(batch.failures)
        self.ctx.progress(records)
        state["records"] += records
        state["rows"] += len(converted.rows) - len(refused)
        state["rejects"] += len(rejects)
        return len(converted.rows) - len(refused)

    def _refused_texts(self, converted: Converted, indices: list[int]) -> dict[int, str]:
        """The source text of refused rows, by line (read again from the chunk's start when
        the records stayed in the reading process)."""
        lines = {converted.lines[i] for i in indices}
        if converted.records:
            return {
                converted.lines[i]: format_record(converted.records[i], self.job.source)
                for i in indices
            }
        texts: dict[int, str] = {}
        start, first = self.state["offset"], self.state["line"]
        with CsvReader(self.source, self.job.source, offset=start, line=first) as reader:
            while lines - texts.keys():
                batch = reader.read(1000, fast=False)
                for line, record in zip(batch.lines, batch.records, strict=True):
                    if line in lines:
                        texts[line] = format_record(record, self.job.source)
                if batch.eof:
                    break
        return texts


def _failure_reject(failure: Failure) -> RejectRecord:
    return RejectRecord(failure.line, failure.raw, None, failure.reason, failure.message)


def _first_width(source: Path, job: ImportJob) -> int | None:
    """The number of fields of the first readable record of a file without a header."""
    with CsvReader(source, job.source) as reader:
        while True:
            batch = reader.read(100)
            for record in batch.records:
                if record:
                    return len(record)
            if batch.eof:
                return None
