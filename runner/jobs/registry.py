"""Which function executes which job kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.context import JobContext
from runner.jobs import python

Executor = Callable[[Any, JobContext], None]

EXECUTORS: dict[str, Executor] = {
    "python": python.execute,
}


def executor_for(kind: str) -> Executor:
    """The executor of ``kind``."""
    return EXECUTORS[kind]
