from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.procs import Proc


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """Processes a test starts; any still running at the end are killed."""
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()
