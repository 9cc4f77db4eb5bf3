"""The job kinds: each implements :class:`JobKind` for its own config model.

A job's config model (``kind:`` in the file) picks its kind; the dispatch below is checked by
mypy, so a new kind that is not registered, or registered with the wrong model, fails the
type check rather than a run.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from runner.core.config import ExportJob, ImportJob, JobConfig, PythonJob
from runner.executor.context import JobContext
from runner.executor.jobs import exports, imports, python

Spec = TypeVar("Spec", contravariant=True)


class JobKind(Protocol[Spec]):
    """What every job kind implements: run (or resume) one job through its context."""

    def __call__(self, job: Spec, ctx: JobContext, /) -> None:
        """Do the job's work, reporting through ``ctx``; raise to fail the run."""


PYTHON: JobKind[PythonJob] = python.execute
IMPORT: JobKind[ImportJob] = imports.execute
EXPORT: JobKind[ExportJob] = exports.execute


def run_job(job: JobConfig, ctx: JobContext) -> None:
    """Run ``job`` with the kind its config model names."""
    if isinstance(job, ImportJob):
        IMPORT(job, ctx)
    elif isinstance(job, ExportJob):
        EXPORT(job, ctx)
    else:
        PYTHON(job, ctx)
