"""An import's reading and validation in a child process, in parallel with the writes.

For large files (see :mod:`runner.executor.jobs.strategy`) the CSV is parsed and validated by
a child process while the runner writes the previous chunk: the two run on different cores
instead of taking turns under one interpreter lock. The child is forked from the runner, so
it starts at once with jobmon's modules loaded and the :class:`Plan` (where to start, the
column layout) in hand; it sends each chunk as a pickle on a pipe: the batch's lines,
offsets and failures, the converted rows and rejects (a whole line's with its bytes). The
parsed source records and the chunk's bytes stay behind (on two cores every copy counts): the
runner reads a chunk's bytes again from the file, which is checked unchanged after each chunk,
only to quote a row the database refused or a record rejected on the CSV path. Rows of
tuples travel as columns (:func:`packed`): a column whose values hold no line break and no
NULL as one string, its values joined by line breaks, which costs both processes a fraction of
pickling each value (unpickling rows took a third of the runner's time). It holds at most the
chunk it is sending and the one it is reading, so memory stays flat.

The child only reads the file and writes to its pipe: it never runs the runner's own code
(its other threads are not in the child, whose signal handlers are the defaults again), never
collects or finalizes the objects it inherited (the runner's database connections among them:
closing one would end the runner's session), and leaves with ``os._exit``. Spawning a new
interpreter instead cost half a second of imports, a quarter of a million-row import.

The parent ends the child when the run ends, whatever the reason; if the parent dies, the
child's next write fails and it exits.
"""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn

from runner.core.config import ImportJob
from runner.executor.jobs.csvsource import CsvReader
from runner.executor.jobs.fastrows import Output, Row
from runner.executor.jobs.gcpause import YOUNG_THRESHOLD
from runner.executor.jobs.linecheck import Chunk, producer
from runner.executor.jobs.strategy import READ_ROWS

__all__ = ["ChildFailed", "Chunk", "Plan", "ProcessChunks", "packed", "unpacked"]
# The pipe holds a whole chunk or more, so the child reads on while the parent writes.
PIPE_BYTES = 8 * 2**20
# A column of tuple rows on the pipe: its values joined by line breaks, or as they are.
Packed = list[str | tuple[str | None, ...]]


class ChildFailed(Exception):
    """The child process could not read or convert the file."""


@dataclass(frozen=True)
class Plan:
    """What the child needs: the job, the file, where to start and the column layout."""

    job: dict[str, Any]
    source: str
    offset: int
    line: int
    positions: list[int]
    width: int
    output: Output
    lines: bool = False  # chunks read by whole lines when the data allows
    raw: bool = False  # runs of lines kept as they are (see rawcopy)
    rows: int = READ_ROWS  # the most rows of a chunk


@dataclass(frozen=True)
class _Error:
    message: str


class ProcessChunks:
    """Chunks read and converted by a child process: give it the plan (at once, or by
    :meth:`send`), iterate once, then :meth:`close`."""

    def __init__(self, plan: Plan | None = None) -> None:
        self._pid: int | None = None
        self._pipe: BinaryIO | None = None
        self.returncode: int | None = None
        if plan is not None:
            self.send(plan)

    def ready(self) -> bool:
        """Whether the child may be given its plan without waiting (a fork starts at once)."""
        return True

    def send(self, plan: Plan) -> None:
        """Start the child on ``plan``: it starts reading."""
        read, write = os.pipe()
        _widen(read)
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _child(plan, write)
        os.close(write)
        self._pid, self._pipe = pid, os.fdopen(read, "rb")

    def __iter__(self) -> Iterator[Chunk]:
        assert self._pipe is not None
        while True:
            try:
                item = pickle.load(self._pipe)
            except EOFError:
                code = self._reap(wait=True)
                raise ChildFailed(f"the reading process ended early (exit code {code})") from None
            if isinstance(item, _Error):
                raise ChildFailed(item.message)
            batch, converted, columns = item
            if columns is not None:
                converted.rows = unpacked(columns)
            yield batch, converted
            if batch.eof:
                return

    def _reap(self, *, wait: bool) -> int | None:
        """The child's exit code once it has ended (waiting for it with ``wait``)."""
        if self._pid is not None and self.returncode is None:
            pid, status = os.waitpid(self._pid, 0 if wait else os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def close(self) -> None:
        """End the child (at once if it is still reading) and reap it."""
        if self._pid is not None and self._reap(wait=False) is None:
            os.kill(self._pid, signal.SIGKILL)
            self._reap(wait=True)
        if self._pipe is not None:
            self._pipe.close()

    def __enter__(self) -> ProcessChunks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _widen(pipe: int) -> None:
    """Make the pipe as large as the system allows, up to :data:`PIPE_BYTES`."""
    try:
        with open("/proc/sys/fs/pipe-max-size") as limit:
            size = min(PIPE_BYTES, int(limit.read()))
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, size)
    except (OSError, ValueError, AttributeError):
        pass  # not Linux, or not allowed: the default pipe works, only slower


def packed(rows: list[Row]) -> Packed:
    """Rows of tuples as columns: each one string of its values joined by line breaks, or,
    when a value is NULL or holds a line break, the tuple of its values."""
    columns: Packed = []
    for values in zip(*rows, strict=True):
        try:
            joined = "\n".join(values)
        except TypeError:  # a NULL
            columns.append(values)
            continue
        columns.append(joined if joined.count("\n") == len(values) - 1 else values)
    return columns


def unpacked(columns: Packed) -> list[Row]:
    """The rows of :func:`packed` columns."""
    return list(zip(*(c.split("\n") if isinstance(c, str) else c for c in columns), strict=True))


def _produce(plan: Plan, out: Any) -> None:
    job = ImportJob.model_validate(plan.job)
    fmt = job.source
    with CsvReader(plan.source, fmt, offset=plan.offset, line=plan.line, keep_bytes=True) as reader:
        produce = producer(
            job,
            plan.positions,
            plan.width,
            plan.output,
            reader,
            lines=plan.lines,
            rows=plan.rows,
            raw=plan.raw,
        )
        while True:
            batch, converted = produce()
            # Neither the parsed records nor the chunk's bytes: the runner reads a chunk's
            # bytes again from the file if it needs them (to quote a record the database
            # refused, or one rejected on the CSV path), rather than receive every chunk's.
            batch.records, converted.records, batch.data = [], [], b""
            columns = packed(converted.rows) if plan.output == "tuple" else None
            if columns is not None:
                converted.rows = []
            pickle.dump((batch, converted, columns), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            if batch.eof:
                return


def _child(plan: Plan, pipe: int) -> NoReturn:
    """The forked child: send the chunks of ``plan`` on ``pipe`` until the end of the file
    or of the pipe, then leave (see above)."""
    try:
        gc.freeze()  # what the parent had stays as it is: none of it is collected here
        gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        out = os.fdopen(pipe, "wb")
        try:
            _produce(plan, out)
        except BrokenPipeError:
            pass  # the parent is gone or closed the pipe
        except Exception as exc:
            pickle.dump(_Error(f"{type(exc).__name__}: {exc}"), out)
            out.flush()
    finally:
        os._exit(0)
