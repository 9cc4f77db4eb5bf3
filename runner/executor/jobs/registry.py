"""Which function executes which job kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.executor.context import JobContext
from runner.executor.jobs import exports, imports, python

Executor = Callable[[Any, JobContext], None]

EXECUTORS: dict[str, Executor] = {
    "python": python.execute,
    "import": imports.execute,
    "export": exports.execute,
}


def executor_for(kind: str) -> Executor:
    """The executor of ``kind``."""
    return EXECUTORS[kind]
