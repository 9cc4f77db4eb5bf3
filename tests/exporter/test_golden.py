"""The exposition of a fixed database state, kept as a golden file that promtool lints.

Regenerate after an intended change with ``JOBMON_UPDATE_GOLDEN=1 pytest tests/exporter``
and review the diff.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.deflate import plain_pieces
from exporter.formats import Format
from exporter.reader import Reader
from exporter.render import Renderer, SelfValues
from exporter.server import ExporterServer
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.exporter.scenario import config, populate
from tests.promtools import tool

GOLDEN = Path(__file__).with_name("golden.prom")
OWN = SelfValues(
    database_up=True, duration=0.0125, errors=0, version="0.0.0-golden", last_read=1772323200.0
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'jobmon.db'}")
    upgrade(database)
    populate(database)
    yield database
    database.dispose()


def render(db: Database) -> str:
    renderer = Renderer()
    renderer.update(Reader(db).read(5.0))
    return plain_pieces(renderer.pieces(Format.TEXT, OWN)).decode()


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    command = [tool("promtool"), "check", "metrics"]
    return subprocess.run(command, input=text, capture_output=True, text=True, timeout=30)


def test_exposition_matches_the_golden_file(db: Database) -> None:
    text = render(db)
    if os.environ.get("JOBMON_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_promtool_lints_the_golden_file() -> None:
    result = promtool_check(GOLDEN.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_lints_a_live_scrape(db: Database) -> None:
    server = ExporterServer(
        config(db.url.render_as_string(hide_password=False)), listen_address="127.0.0.1:0"
    )
    server.start()
    try:
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        server.stop()
    result = promtool_check(text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "jobmon_job_status{" in text
