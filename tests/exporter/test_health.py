"""The probes on real databases: ``/-/healthy`` while the process serves, ``/-/ready`` only
while the database answers at this jobmon's schema revision, with the reason when not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from exporter.server import ExporterServer
from runner.core.storage.db import Database
from runner.core.storage.migrate import HEAD
from tests.exporter.scenario import config
from tests.exporter.test_server import fetch

Start = Callable[..., ExporterServer]


def _probes(server: ExporterServer) -> tuple[int, int, str]:
    healthy = fetch(server, "/-/healthy")[0]
    status, _, body = fetch(server, "/-/ready")
    return healthy, status, body.decode()


def test_ready_on_a_migrated_database(db_url: str, start_exporter: Start) -> None:
    assert _probes(start_exporter(config(db_url, []))) == (200, 200, "Ready\n")


def test_not_ready_while_the_database_is_unreachable(tmp_path: Path, start_exporter: Start) -> None:
    # Nothing listens on port 1; the exporter still serves /metrics (database_up 0) and is
    # healthy: an orchestrator stops sending traffic, it does not restart the exporter.
    url = "postgresql+psycopg://jobmon:s3cret@127.0.0.1:1/jobmon"
    server = start_exporter(config(url, []))
    healthy, ready, reason = _probes(server)
    assert (healthy, ready) == (200, 503)
    assert reason.startswith("Not ready: database unreachable: OperationalError")
    assert "s3cret" not in reason
    status, _, body = fetch(server)
    assert status == 200 and b"jobmon_database_up 0.0" in body


def test_not_ready_without_the_schema(tmp_path: Path, start_exporter: Start) -> None:
    server = start_exporter(config(f"sqlite:///{tmp_path / 'empty.db'}", []))
    assert _probes(server) == (
        200,
        503,
        "Not ready: database has no jobmon schema: run `jobmon db upgrade`\n",
    )


def test_not_ready_at_another_schema_revision(db_url: str, start_exporter: Start) -> None:
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
        healthy, ready, reason = _probes(start_exporter(config(db_url, [])))
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": HEAD})
        db.dispose()
    assert (healthy, ready) == (200, 503)
    assert f"at revision 0003, this jobmon needs {HEAD}" in reason


def test_not_ready_once_stopping(db_url: str, start_exporter: Start) -> None:
    server = start_exporter(config(db_url, []))
    server._site.ready = False  # what stop() sets first, before the socket closes
    assert _probes(server)[1:] == (503, "Not ready: the exporter is starting or stopping\n")
