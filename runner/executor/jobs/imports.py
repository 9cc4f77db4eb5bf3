"""``kind: import``: a CSV file into a table, validated, in checkpointed chunks.

Each chunk is read and validated, then written with its rejects, its progress and the new
checkpoint (byte offset, line, counts). Into jobmon's own database all of that is one
transaction, so after a crash or a stop the run resumes exactly after the last committed
chunk: every accepted row lands once and every reject is recorded once. Into a named database
the rows commit first, then the checkpoint: a crash between the two replays one chunk, which
``mode: upsert`` absorbs (same outcome) and ``mode: insert`` may duplicate.

A resumed run refuses to go on if the file changed since the run started (size, modification
time, or a hash of its first and last 64 KiB). How the chunks are read and written is chosen
in one place, :mod:`runner.executor.jobs.strategy`.
"""

from __future__ import annotations

from runner.core.config import ImportJob
from runner.core.storage.db import Database
from runner.executor.context import JobContext, JobFailed
from runner.executor.jobs import paths, strategy, targets
from runner.executor.jobs.gcpause import fewer_collections
from runner.executor.jobs.importrun import Destination, ImportRun, initial_state, remaining
from runner.executor.jobs.targets import TargetError
from runner.executor.jobs.writers import TableWriter


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
        state = initial_state(job, ctx, source)
        upsert = job.target.mode == "upsert"
        how = strategy.choose(
            db.dialect, remaining(state), upsert=upsert, chunk_rows=job.chunk_rows, own=own
        )
        to = Destination(db, own, TableWriter(table, job.target, how))
        with fewer_collections():
            ImportRun(job, ctx, source, to, how, state).run()
    finally:
        if not own:
            db.dispose()
