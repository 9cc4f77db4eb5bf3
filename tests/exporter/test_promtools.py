"""The launchers in ``tests/promtools.py`` that other test areas reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.promtools import AlertmanagerServer

pytestmark = pytest.mark.slow


def test_alertmanager_launcher_serves_its_api(tmp_path: Path) -> None:
    config = {
        "route": {"receiver": "null", "group_wait": "0s", "group_interval": "1s"},
        "receivers": [{"name": "null"}],
    }
    server = AlertmanagerServer(config, tmp_path / "am")
    server.start()
    try:
        assert server.alerts() == []
    finally:
        server.stop()
    assert server.process is None
