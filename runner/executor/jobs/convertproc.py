"""An import's reading and validation in a child process, in parallel with the writes.

For large files (see :mod:`runner.executor.jobs.strategy`) the CSV is parsed
and validated by ``python -m runner.executor.jobs.convertproc`` while the runner writes the
previous chunk: the two run on different cores instead of taking turns under one interpreter
lock. The child receives a :class:`Plan` on stdin and sends each chunk as a pickle on stdout:
the batch's lines, offsets, failures and raw bytes, and the converted rows and rejects. The
parsed source records stay behind (many small strings are costly to pickle); the raw bytes,
one object, are what the runner parses again, in memory, to quote a row the database refuses.
Rows of tuples travel as columns (:func:`packed`): a column whose values hold no line break
and no NULL as one string, its values joined by line breaks, which costs both processes a
fraction of pickling each value (unpickling rows took a third of the runner's time).
It holds at most the chunk it is sending and the one it is reading, so memory stays flat.

Starting the child (an interpreter that imports jobmon's modules) takes a good part of a
second; the parent reads and converts the first chunks itself meanwhile, and hands the rest of
the file over (the plan: where to start) once the child says it has started.

The parent ends the child when the run ends, whatever the reason; if the parent dies, the
child's next write fails and it exits.
"""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from runner.core.config import ImportJob
from runner.executor.jobs.csvsource import CsvReader
from runner.executor.jobs.fastrows import Output, Row
from runner.executor.jobs.gcpause import YOUNG_THRESHOLD
from runner.executor.jobs.linecheck import Chunk, producer
from runner.executor.jobs.strategy import READ_ROWS

__all__ = ["ChildFailed", "Chunk", "Plan", "ProcessChunks", "packed", "unpacked"]
# The pipe holds a whole chunk or more, so the child reads on while the parent writes.
PIPE_BYTES = 8 * 2**20
# What the child writes once it has started, before its first chunk.
_STARTED = b"S"
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
    """Chunks read and converted by a child process: start it, :meth:`send` it the plan (or
    give the plan at once), iterate once, then :meth:`close`."""

    def __init__(self, plan: Plan | None = None) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "runner.executor.jobs.convertproc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        _widen(self._proc.stdout.fileno())
        self._started = False
        if plan is not None:
            self.send(plan)

    def ready(self) -> bool:
        """Whether the child has started and waits for its plan (or has ended), without
        waiting for it."""
        assert self._proc.stdout is not None
        if not self._started and select.select([self._proc.stdout], [], [], 0)[0]:
            self._proc.stdout.read(len(_STARTED))  # or nothing, if the child has ended
            self._started = True
        return self._started

    def send(self, plan: Plan) -> None:
        """Give the child its plan: it starts reading."""
        assert self._proc.stdin is not None
        try:
            pickle.dump(plan, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.close()
        except BrokenPipeError:
            self.close()
            raise ChildFailed(
                f"the reading process ended early (exit code {self._proc.returncode})"
            ) from None
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[Chunk]:
        assert self._proc.stdout is not None
        if not self._started:
            self._proc.stdout.read(len(_STARTED))
            self._started = True
        while True:
            try:
                item = pickle.load(self._proc.stdout)
            except EOFError:
                code = self._proc.wait()
                raise ChildFailed(f"the reading process ended early (exit code {code})") from None
            if isinstance(item, _Error):
                raise ChildFailed(item.message)
            batch, converted, columns = item
            if columns is not None:
                converted.rows = unpacked(columns)
            yield batch, converted
            if batch.eof:
                return

    def close(self) -> None:
        """End the child (at once if it is still reading) and reap it."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

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
            batch.records, converted.records = [], []  # batch.data holds them, as one object
            columns = packed(converted.rows) if plan.output == "tuple" else None
            if columns is not None:
                converted.rows = []
            pickle.dump((batch, converted, columns), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            if batch.eof:
                return


def main() -> None:
    """The child: read the plan, send chunks until the end of the file or of the pipe."""
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but pickles on the pipe
    out.write(_STARTED)  # everything is imported: the parent may hand over now
    out.flush()
    plan: Plan = pickle.load(sys.stdin.buffer)
    try:
        _produce(plan, out)
    except BrokenPipeError:
        os._exit(0)  # the parent is gone or closed the pipe: nothing left to flush
    except Exception as exc:
        pickle.dump(_Error(f"{type(exc).__name__}: {exc}"), out)
        out.flush()


if __name__ == "__main__":
    # Run the module's own copy, so what it pickles is named runner.executor.jobs.convertproc.*
    from runner.executor.jobs import convertproc

    convertproc.main()
