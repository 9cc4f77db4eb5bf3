"""How an import runs: the one place that chooses, from the target database and the file.

:func:`choose` looks at the target database's dialect, the bytes left to read and the write
mode, and returns a :class:`Strategy` with three answers:

**Row format** (``output``). Into PostgreSQL, rows are lines of ``COPY`` text format, ready
for the fastest load the server offers. Into SQLite and MariaDB, rows are tuples of stored
texts, the cheapest parameters for the driver's ``executemany``.

**Who produces chunks** (``producer``). Into PostgreSQL, the next chunk is read and validated
while the server works on the current one: psycopg waits for the server without the
interpreter lock. When the part of the file left to read is at least
:data:`PARALLEL_MIN_BYTES`, a child process reads and validates (``"process"``), so parsing
and writing run on different cores; it sends each chunk's rows with the chunk's raw bytes, and
the parent parses those bytes again only to quote a row the database refused, never the file.
While the child starts (a good part of a second), the importing process reads and writes the
first chunks itself, then hands the rest of the file over. Below that size a second thread
does it (``"thread"``): a process is not worth starting.
Into SQLite and MariaDB the driver's own work is the larger part and happens in the importing
process under the interpreter lock: a second thread or process only adds to it (and would
hold SQLite's write lock longer), so chunks are read where they are written (``"inline"``).

**How rows are written** (``writer``). ``"copy"``: PostgreSQL's ``COPY ... FROM STDIN``, one
write per chunk. ``"staged_copy"``: an upsert into PostgreSQL, which ``COPY`` cannot do
alone: the chunk is copied into a temporary staging table, then merged with ``INSERT ... ON
CONFLICT``. ``"executemany"``: the driver's ``executemany`` of one positional ``INSERT``
(``ON CONFLICT`` on SQLite, ``ON DUPLICATE KEY UPDATE`` on MariaDB for upserts).

Whatever the strategy, each chunk first takes the fast path and falls back per chunk, since
only the data can tell: the CSV reader parses the whole chunk in one call and, when it holds a
bad or multi-line record, reads it again record by record; the row converter checks whole
columns, then whole rows, and only the records those do not plainly accept go through the
field-by-field check that names the failing field. A refused batch is split in halves until
each refused row stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.executor.jobs.fastrows import Output

Producer = Literal["inline", "thread", "process"]
Writer = Literal["copy", "staged_copy", "executemany"]

# The part of the file left to read from which a child process reads and validates.
PARALLEL_MIN_BYTES = 8 * 2**20


@dataclass(frozen=True)
class Strategy:
    """The row format, who produces the chunks and how rows are written."""

    output: Output
    producer: Producer
    writer: Writer


def choose(dialect: str, remaining: int, *, upsert: bool) -> Strategy:
    """The strategy for a target of ``dialect`` with ``remaining`` bytes left to read."""
    if dialect == "postgresql":
        producer: Producer = "process" if remaining >= PARALLEL_MIN_BYTES else "thread"
        return Strategy("copy", producer, "staged_copy" if upsert else "copy")
    return Strategy("tuple", "inline", "executemany")
