"""``kind: python``: call the user's ``package.module:function`` with the run's context."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from runner.core.config import PythonJob
from runner.executor.context import JobContext, JobFailed


def load_callable(spec: str) -> Callable[[JobContext], Any]:
    """Import ``package.module:function``; JobFailed with a clear message if it cannot."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise JobFailed(f"cannot import {module_name}: {exc}") from exc
    func: Callable[[JobContext], Any] | None = getattr(module, attr, None)
    if not callable(func):
        raise JobFailed(f"{module_name} has no callable {attr}")
    return func


def execute(job: PythonJob, ctx: JobContext) -> None:
    """Run the user's function; what it raises ends the run with errors."""
    load_callable(job.callable)(ctx)
