"""A job's definition as the General tab shows it: what it reads, where it writes, its limits
and parameters, with secrets masked. One place for the CLI's ``show`` and the console."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from runner.core.config import ExportJob, ImportJob, JobConfig, PythonJob
from runner.core.config.secrets import redact

# Parameter names whose values are never shown.
SECRET_NAME = re.compile(r"pass|secret|token|credential|api.?key|private", re.IGNORECASE)
# The password of a URL written into a parameter: ``scheme://user:PASSWORD@host``.
URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
MASK = "***"


def definition(job: JobConfig, secrets: Iterable[str]) -> dict[str, Any]:
    """The job's General-tab fields, in display order; values are plain data."""
    fields: dict[str, Any] = {
        "name": job.name,
        "description": job.description or None,
        "kind": job.kind,
        "schedule": job.schedule,
        "after": getattr(job, "after", None),
        "source": source(job),
        "target": target(job),
        "columns": column_count(job),
        "max_rejects": job.max_rejects,
        "max_duration_seconds": job.max_duration_seconds,
        "parameters": parameters(job, list(secrets)),
    }
    return fields


def source(job: JobConfig) -> str:
    """What the job reads, in one line."""
    if isinstance(job, ImportJob):
        src = job.source
        header = "header row" if src.header else "no header row"
        return f"{src.path} ({src.encoding}, {src.delimiter!r} delimited, {header})"
    if isinstance(job, ExportJob):
        if job.source.query:
            return f"query {job.source.query}" + _on(job.source.database)
        where = " and ".join(f"{c.column} {c.op} {c.value!r}" for c in job.source.where)
        table = _table(job.source.table, job.source.schema_) + _on(job.source.database)
        return table + (f" where {where}" if where else "")
    return f"function {job.callable}"


def target(job: JobConfig) -> str | None:
    """Where the job writes, in one line (None for a python job)."""
    if isinstance(job, ImportJob):
        to = job.target
        how = f"upsert on {', '.join(to.key)}" if to.mode == "upsert" else "insert"
        created = ", created if missing" if to.create else ""
        return _table(to.table, to.schema_) + _on(to.database) + f" ({how}{created})"
    if isinstance(job, ExportJob):
        return f"{job.destination.path} ({job.destination.encoding})"
    return None


def column_count(job: JobConfig) -> int | None:
    """How many columns the job reads or writes, when the config says."""
    if isinstance(job, ImportJob):
        return len(job.columns)
    if isinstance(job, ExportJob) and job.source.columns is not None:
        return len(job.source.columns)
    return None


def parameters(job: JobConfig, secrets: list[str]) -> dict[str, Any] | None:
    """A python job's parameters, with secret-looking names and known secrets masked."""
    if not isinstance(job, PythonJob):
        return None
    return {name: _masked(name, value, secrets) for name, value in job.params.items()}


def _masked(name: str, value: Any, secrets: list[str]) -> Any:
    if SECRET_NAME.search(name):
        return MASK
    if isinstance(value, dict):
        return {k: _masked(k, v, secrets) for k, v in value.items()}
    if isinstance(value, str):
        return URL_PASSWORD.sub(rf"\g<1>{MASK}@", redact(value, secrets))
    return value


def _table(name: str | None, schema: str | None) -> str:
    return "table " + (f"{schema}.{name}" if schema else str(name))


def _on(database: str | None) -> str:
    return f" on database {database}" if database else ""
