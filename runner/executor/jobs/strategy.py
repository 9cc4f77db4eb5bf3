"""How an import runs: the one place that chooses, from the target database and the file.

:func:`choose` looks at the target database's dialect, the bytes left to read and the write
mode, and returns a :class:`Strategy` with five answers:

**Row format** (``output``). Into PostgreSQL, rows are lines of ``COPY`` text format, ready
for the fastest load the server offers. Into SQLite and MariaDB, rows are tuples of stored
texts, the cheapest parameters for the driver's ``executemany``.

**Who produces chunks** (``producer``). When the part of the file left to read is at least
:data:`PARALLEL_MIN_BYTES`, a child process reads and validates (``"process"``), so parsing
and writing run on different cores; it sends each chunk's rows with the chunk's raw bytes, and
the parent parses those bytes again only to quote a row the database refused, never the file.
While the child starts (a good part of a second), the importing process reads and writes the
first chunks itself, then hands the rest of the file over. Below that size a process is not
worth starting: into PostgreSQL a second thread reads and validates the next chunk while the
server works on the current one (``"thread"``; psycopg waits for the server without the
interpreter lock); into SQLite and MariaDB, where the driver's own work happens in the
importing process under the interpreter lock, chunks are read where they are written
(``"inline"``). On SQLite the importing process then holds the database's only write lock
most of the time, between short gaps: a waiting writer tries again every millisecond (see
:mod:`runner.core.storage.db`), so other jobs' transitions still take their turn within one
transaction of the import.

**How rows are written** (``writer``). ``"copy"``: PostgreSQL's ``COPY ... FROM STDIN``, one
write per chunk. ``"staged_copy"``: an upsert into PostgreSQL, which ``COPY`` cannot do
alone: the chunk is copied into a temporary staging table, then merged with ``INSERT ... ON
CONFLICT``. ``"executemany"``: the driver's ``executemany`` of one positional ``INSERT``
(``ON CONFLICT`` on SQLite, ``ON DUPLICATE KEY UPDATE`` on MariaDB for upserts).

**How records are found** (``reading``). ``"lines"``: when every column has a line pattern
(see :mod:`runner.executor.jobs.linecheck`) and no default, a chunk of whole lines is decoded
at once, regular expressions take runs of plainly valid lines, their fields are split out in C
and rows are assembled column by column, without the ``csv`` module or the per-column checks;
only the other lines are parsed and converted on their own. That is about a quarter less work
per row than the CSV path, for COPY rows and tuples alike (measured on the benchmark's file:
2.1 against 2.8 microseconds a row for tuples). ``"records"`` (the CSV reader parses every
record, below) is what the line route falls back to, chunk by chunk. ``"raw"``, for inserts
into PostgreSQL: the line route keeps its runs of lines as they are, when the file's fields
are the job's columns in order and PostgreSQL reads each plainly valid value as stored; the
server parses them (``COPY ... (FORMAT csv)``, see :mod:`runner.executor.jobs.rawcopy`), and
the reading process only matches them (on the benchmark's file, about half its work a row).
An upsert keeps ``"lines"``: its rows go through a staging table in line order.

**How many rows a transaction holds** (``transaction_rows``). Each transaction writes its
rows, rejects, progress and checkpoint, and checks the run's claim and whether it was paused
or canceled: about ten statements, a fixed cost that 10,000 rows of ``COPY`` barely outweigh.
A job's ``chunk_rows`` is the size of its transactions and of its reads. Unset, a transaction
into jobmon's own database holds 200,000 rows on PostgreSQL (its lines go to one COPY as
they come, see :mod:`runner.executor.jobs.rawcopy`: the server waits for the runner only
between transactions) and 50,000 on MariaDB, read :data:`READ_ROWS` at a time (so memory
stays what it is with 10,000; a tenth or less of an import's time goes to transactions then,
and a pause or cancel still takes effect within a second), and 10,000 on SQLite, where a
transaction holds the database's only write lock and other jobs' transitions wait. Into a
named database a transaction holds 10,000 rows: its rows commit before the checkpoint, and a
crash between the two replays one transaction.

Whatever the strategy, each chunk first takes the fast path and falls back per chunk, since
only the data can tell: a chunk the line route cannot take (it does not decode, holds a
carriage return or a record over several lines, or too many lines off the patterns) is read
by records; the CSV reader parses the whole chunk in one call and, when it holds a bad or
multi-line record, reads it again record by record; the row converter checks whole columns,
then whole rows, and only the records those do not plainly accept go through the
field-by-field check that names the failing field. Either way a chunk ends where the CSV
reader's would, with the same rows, rejects and checkpoint. A refused batch is split in
halves until each refused row stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.executor.jobs.fastrows import Output

Producer = Literal["inline", "thread", "process"]
Writer = Literal["copy", "staged_copy", "executemany"]
Reading = Literal["raw", "lines", "records"]

# The part of the file left to read from which a child process reads and validates.
PARALLEL_MIN_BYTES = 8 * 2**20
# When a job does not set ``chunk_rows``: rows per transaction by target dialect (multiples of
# READ_ROWS), and rows read and converted at once.
TRANSACTION_ROWS = {"postgresql": 200_000, "mariadb": 50_000, "mysql": 50_000}
DEFAULT_TRANSACTION_ROWS = 10_000
READ_ROWS = 10_000


@dataclass(frozen=True)
class Strategy:
    """The row format, who produces the chunks, how rows are written and records found."""

    output: Output
    producer: Producer
    writer: Writer
    reading: Reading = "records"
    transaction_rows: int = DEFAULT_TRANSACTION_ROWS
    read_rows: int = READ_ROWS  # a divisor of ``transaction_rows``


def choose(
    dialect: str,
    remaining: int,
    *,
    upsert: bool,
    chunk_rows: int | None = None,
    own: bool = True,
) -> Strategy:
    """The strategy for a target of ``dialect`` (jobmon's ``own`` database or a named one)
    with ``remaining`` bytes left to read, in transactions of the job's ``chunk_rows``."""
    grouped = TRANSACTION_ROWS.get(dialect, DEFAULT_TRANSACTION_ROWS) if own else READ_ROWS
    rows = chunk_rows or grouped
    read = chunk_rows or READ_ROWS
    if dialect == "postgresql":
        producer: Producer = "process" if remaining >= PARALLEL_MIN_BYTES else "thread"
        writer: Writer = "staged_copy" if upsert else "copy"
        return Strategy("copy", producer, writer, "lines" if upsert else "raw", rows, read)
    producer = "process" if remaining >= PARALLEL_MIN_BYTES else "inline"
    return Strategy("tuple", producer, "executemany", "lines", rows, read)
