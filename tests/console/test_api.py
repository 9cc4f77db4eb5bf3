"""The console's JSON API over HTTP, on a real exporter and SQLite, PostgreSQL and MariaDB.

Every document is compared with what ``jobmon ... --output json`` prints for the same data.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from exporter.console.app import Console
from exporter.console.http import Request
from exporter.console.security import Guard
from exporter.server import ExporterServer
from runner.core import claims, lifecycle
from runner.core.clock import utcnow
from runner.core.config import load
from runner.core.states import Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, JournalEntry, Run, Transition
from tests.console.apifixtures import (
    JSON_BODY,
    OPERATOR,
    READER,
    Client,
    cli_json,
    seed,
    write_config,
)

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def config_path(db_url: str, tmp_path: Path) -> Path:
    """A config with basic auth (alice operates, bob reads) whose database has real runs."""
    path = write_config(tmp_path, db_url, auth=True)
    seed(path)
    return path


def _serve(path: Path) -> Iterator[ExporterServer]:
    server = ExporterServer(load(path), listen_address="127.0.0.1:0")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(config_path: Path) -> Iterator[ExporterServer]:
    yield from _serve(config_path)


@pytest.fixture
def api(server: ExporterServer) -> Client:
    return Client(server)


@pytest.fixture
def open_config(db_url: str, tmp_path: Path) -> Path:
    """A config without basic auth, with real runs."""
    path = write_config(tmp_path, db_url, auth=False)
    seed(path)
    return path


@pytest.fixture
def open_api(open_config: Path) -> Iterator[Client]:
    for server in _serve(open_config):
        yield Client(server, user=None)


def _causes(db: Database, run_id: int) -> list[tuple[str | None, str, str]]:
    query = select(Transition).where(Transition.run_id == run_id).order_by(Transition.id)
    with db.read() as session:
        return [(t.from_status, t.to_status, t.cause) for t in session.scalars(query)]


def _job_id(db: Database, name: str) -> int:
    with db.read() as session:
        return int(session.scalars(select(Job.id).where(Job.name == name)).one())


# Reading


def test_jobs_is_the_cli_job_list(api: Client, config_path: Path, capsys: Capsys) -> None:
    reply = api.get("jobs")
    assert reply.status == 200
    expected = cli_json(config_path, "jobs")
    assert reply.data == expected
    assert len(expected) == 7
    assert (reply.headers["X-Total"], reply.headers["X-Total-Pages"]) == ("7", "1")
    assert (reply.headers["X-Page"], reply.headers["X-Per-Page"]) == ("1", "50")
    assert reply.headers["Cache-Control"] == "no-store"


def test_jobs_pages_filters_and_links(api: Client, config_path: Path, capsys: Capsys) -> None:
    everything = cli_json(config_path, "jobs")
    reply = api.get("jobs?per_page=2&page=2")
    assert reply.data == everything[2:4]
    assert (reply.headers["X-Total"], reply.headers["X-Total-Pages"]) == ("7", "4")
    links = reply.headers["Link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 4)):
        assert f'</api/v1/jobs?per_page=2&page={page}>; rel="{rel}"' in links
    last = api.get("jobs?per_page=2&page=99")  # past the end: the last page
    assert (last.data, last.headers["X-Page"]) == (everything[6:], "4")
    assert 'rel="next"' not in last.headers["Link"]

    finished = api.get("jobs?status=finished")
    assert finished.data == [j for j in everything if j["status"] == "finished"]
    assert finished.headers["X-Total"] == str(len(finished.data))
    assert "status=finished" in finished.headers["Link"]
    assert [j["name"] for j in api.get("jobs?q=too").data] == ["too-many"]
    assert api.get("jobs?q=%25").data == []  # LIKE wildcards are plain characters


@pytest.mark.parametrize("name", ["ok", "too-many", "crash", "never"])
def test_job_is_cli_show(api: Client, config_path: Path, capsys: Capsys, name: str) -> None:
    reply = api.get(f"jobs/{name}")
    assert reply.status == 200
    assert reply.data == cli_json(config_path, "show", name)


def test_job_older_run_is_cli_show_run(api: Client, config_path: Path, capsys: Capsys) -> None:
    document = api.get("jobs/ok?run=1").data
    assert document == cli_json(config_path, "show", "ok", "--run", "1")
    assert document["run"]["number"] == 1
    assert {t["cause"] for t in document["transitions"]} == {"user", "runner"}


def test_runs_newest_first(api: Client, config_path: Path, capsys: Capsys) -> None:
    reply = api.get("jobs/ok/runs")
    shown = [cli_json(config_path, "show", "ok", "--run", n)["run"] for n in ("2", "1")]
    assert reply.data == [{k: v for k, v in run.items() if k != "reason"} for run in shown]
    assert reply.headers["X-Total"] == "2"
    assert api.get("jobs/never/runs").data == []
    second = api.get("jobs/ok/runs?per_page=1&page=2")
    assert [run["number"] for run in second.data] == [1]


def test_journal_is_cli_journal(api: Client, config_path: Path, capsys: Capsys) -> None:
    lines = cli_json(config_path, "journal", "failing")
    assert api.get("jobs/failing/journal").data == lines
    assert api.get("jobs/ok/journal?run=1").data == cli_json(
        config_path, "journal", "ok", "--run", "1"
    )
    errors = api.get("jobs/failing/journal?level=error").data
    assert errors == [line for line in lines if line["level"] == "error"] != []
    paged = api.get("jobs/failing/journal?per_page=3&page=2")
    assert paged.data == lines[3:6]
    assert paged.headers["X-Total"] == str(len(lines))


def test_rejects_are_cli_rejects(api: Client, config_path: Path, capsys: Capsys) -> None:
    rejects = cli_json(config_path, "rejects", "too-many")
    reply = api.get("jobs/too-many/rejects")
    assert reply.data == rejects != []
    assert all("raw" not in reject for reject in reply.data)
    assert api.get("jobs/too-many/rejects?per_page=2").data == rejects[:2]
    assert api.get("jobs/ok/rejects").data == []


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "jobs/nope", 404, "no job named 'nope' in the config"),
        ("GET", "jobs/nope/journal", 404, "no job named 'nope' in the config"),
        ("GET", "jobs/never/journal", 404, "job 'never' has not run yet"),
        ("GET", "jobs/ok/rejects?run=9", 404, "job 'ok' has no run 9"),
        ("GET", "jobs/ok?run=9", 404, "job 'ok' has no run 9"),
        ("GET", "jobs/ok/tab", 404, "no API path /api/v1/jobs/ok/tab"),
        ("GET", "runs", 404, "no API path /api/v1/runs"),
        ("GET", "jobs/ok/journal?run=first", 400, "?run= takes a whole number from 1"),
        ("GET", "jobs?page=0", 400, "?page= takes a whole number from 1"),
        ("GET", "jobs?status=done", 400, "unknown status 'done': use one of editing,"),
        ("GET", "jobs/ok/journal?level=loud", 400, "unknown level 'loud'"),
        ("GET", "jobs/ok/pause", 405, "/api/v1/jobs/ok/pause takes POST only"),
        ("POST", "jobs/ok", 405, "/api/v1/jobs/ok takes GET only"),
        ("POST", "jobs/nope/start", 404, "no job named 'nope' in the config"),
    ],
)
def test_errors_are_json(api: Client, method: str, path: str, status: int, message: str) -> None:
    reply = api.call(method, path, b"{}" if method == "POST" else None, JSON_BODY)
    assert reply.status == status
    assert reply.data["error"].startswith(message), reply.data
    if status == 405:
        assert reply.headers["Allow"] in ("POST", "GET, HEAD")


def test_reading_needs_credentials(api: Client) -> None:
    for client in (Client(api.server, user=None), Client(api.server, OPERATOR, "wrong")):
        assert client.get("jobs").status == 401
        assert client.post("jobs/ok/start").status == 401
    assert Client(api.server, READER).get("jobs").status == 200


# Control


def test_control_moves_the_run_as_the_user(api: Client, db: Database) -> None:
    started = api.post("jobs/noop/start")
    assert started.status == 200
    run = started.data
    assert (run["status"], run["number"], run["reason"]) == ("editing", 1, "jobmon start")
    assert api.post("jobs/noop/pause").data["status"] == "editing"  # 409, checked below
    fence = claims.claim_run(db, run["id"], "runner-x", utcnow())  # a runner holds it
    assert api.post("jobs/noop/pause").data["status"] == "pausing"
    with db.write() as session:
        lifecycle.transition(
            session, run["id"], Status.PAUSED, cause=Cause.RUNNER, now=utcnow(), fence=fence
        )
    resumed = api.post("jobs/noop/resume").data
    assert (resumed["status"], resumed["reason"]) == ("running", "jobmon resume")
    canceled = api.post("jobs/noop/cancel").data  # nobody holds the resumed run: at once
    assert canceled["status"] == "canceled"
    assert _causes(db, run["id"]) == [
        (None, "editing", "user:alice"),
        ("editing", "running", "runner"),
        ("running", "pausing", "user:alice"),
        ("pausing", "paused", "runner"),
        ("paused", "running", "user:alice"),
        ("running", "canceling", "user:alice"),
        ("canceling", "canceled", "user:alice"),
    ]
    with db.read() as session:
        query = select(JournalEntry.message).where(JournalEntry.run_id == run["id"])
        messages = list(session.scalars(query))
    assert "Status changed from Running to Pausing by user:alice: jobmon pause" in messages


def test_start_resumes_a_paused_run(api: Client, db: Database) -> None:
    run = api.post("jobs/noop/start").data
    claims.claim_run(db, run["id"], "runner-x", utcnow())
    api.post("jobs/noop/pause")
    with db.write() as session:  # the runner is gone: the run is left paused
        lifecycle.transition(session, run["id"], Status.PAUSED, cause=Cause.REAPER, now=utcnow())
    again = api.post("jobs/noop/start").data
    assert (again["id"], again["status"]) == (run["id"], "running")
    assert _causes(db, run["id"])[-1] == ("paused", "running", "user:alice")


@pytest.mark.parametrize(
    ("job", "verb", "status"),
    [("ok", "pause", "finished"), ("crash", "resume", "finished_with_errors"),
     ("never", "cancel", None)],
)  # fmt: skip
def test_refused_requests_are_409_with_the_status(
    api: Client, db: Database, job: str, verb: str, status: str | None
) -> None:
    before = _run_count(db)
    reply = api.post(f"jobs/{job}/{verb}")
    assert reply.status == 409
    assert reply.data["status"] == status
    assert reply.data["error"].startswith(f"cannot {verb} job {job!r}")
    assert _run_count(db) == before


def test_start_with_an_active_run_is_409(api: Client) -> None:
    api.post("jobs/noop/start")
    reply = api.post("jobs/noop/start")
    assert (reply.status, reply.data["status"]) == (409, "editing")
    assert "it already has an active run" in reply.data["error"]


def _run_count(db: Database) -> int:
    with db.read() as session:
        return len(session.scalars(select(Run.id)).all())


def test_a_reader_cannot_act(api: Client, db: Database) -> None:
    reply = Client(api.server, READER).post("jobs/noop/start")
    assert reply.status == 403
    assert reply.data == {"error": "read-only: bob is not in exporter.console.operators"}
    assert api.get("jobs/noop").data["run"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "text/plain"},
        {},
        {"Content-Type": "application/json", "Origin": "https://evil.example"},
        {"Content-Type": "application/json", "Origin": "null"},
    ],
)
def test_cross_site_requests_are_refused(api: Client, headers: dict[str, str]) -> None:
    reply = api.post("jobs/noop/start", headers)
    assert reply.status == 403
    assert reply.data["error"].startswith("cross-site request refused")
    assert api.get("jobs/noop").data["run"] is None


def test_same_origin_request_is_allowed(api: Client) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8", "Origin": api.origin}
    assert api.post("jobs/noop/start", headers).status == 200


def test_without_auth_loopback_acts_as_web(open_api: Client, db: Database) -> None:
    reply = open_api.post("jobs/noop/start")
    assert reply.status == 200
    assert _causes(db, reply.data["id"]) == [(None, "editing", "user:web")]


def test_without_auth_elsewhere_is_read_only(open_config: Path, db: Database) -> None:
    # Listening beyond loopback (tests bind 127.0.0.1 only, so the rule is given directly).
    config = load(open_config)
    guard = Guard(auth_enabled=False, operators=(OPERATOR,), loopback=False)
    console = Console(config, db, guard)
    post = Request("POST", "/api/v1/jobs/noop/start", headers=JSON_BODY, body=b"{}")
    reply = console.handle(post)
    assert reply is not None and reply.status == 403
    assert b"without basic auth, control is allowed only on a loopback address" in reply.body
    listed = console.handle(Request("GET", "/api/v1/jobs"))
    assert listed is not None and listed.status == 200


def test_concurrent_requests_never_fail(api: Client, db: Database) -> None:
    """Many operators at once on one job: each request is done or refused, never an error."""
    statuses: list[int] = []
    errors: list[Any] = []

    def act(verb: str) -> None:
        reply = api.post(f"jobs/noop/{verb}")
        statuses.append(reply.status)
        if reply.status not in (200, 409):
            errors.append(reply.raw)

    verbs = ["start", "cancel", "start", "pause", "resume", "cancel"] * 3
    threads = [threading.Thread(target=act, args=(verb,)) for verb in verbs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(statuses) == len(verbs) and 200 in statuses
    with db.read() as session:
        job = session.get(Job, _job_id(db, "noop"))
        assert job is not None and job.latest_run_id is not None
        latest = session.get(Run, job.latest_run_id)
    assert latest is not None and job.status == latest.status
