"""Console page fixtures: a real exporter on 127.0.0.1, a config and a database whose jobs
are in every one of the nine statuses, made by real runs and real requests."""

from __future__ import annotations

import base64
import html
import http.client
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import yaml

from exporter.server import ExporterServer
from runner.core import catalog, claims, control, events, lifecycle, presence
from runner.core.config import Config, load
from runner.core.states import Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.executor import worker
from tests.exporter.conftest import bcrypt_hash
from tests.runner.support import Ticker

OPERATOR, READER = "alice", "bob"
PASSWORDS = {OPERATOR: "alice-pw", READER: "bob-pw"}
SCRIPT = '<script>alert("x")</script>'
# Latin-1 with one record a person must fix: its id holds markup, not a number.
PEOPLE_CSV = b"id,name\n1,Zo\xeb\n" + b'"<script>alert(1)</script>",Bj\xf8rn\n' + b"3,\xc5sa\n"
COUNT = "runner.examples:count"
NOOP = "runner.examples:noop"
# A job whose latest run is in each status, and how it gets there (see ``seed``).
BY_STATUS = {
    Status.EDITING: "waiting",
    Status.RUNNING: "busy",
    Status.PAUSING: "slowing",
    Status.PAUSED: "resting",
    Status.CANCELING: "stopping",
    Status.CANCELED: "called-off",
    Status.FINISHED: "ok",
    Status.FINISHED_WITH_ERRORS: "too-many",
    Status.SERVER_STOPPED: "crashed",
}


def jobs(data: Path) -> list[dict[str, Any]]:
    """The seeded jobs: examples that finish, fail and reject, an import, and idle ones."""
    counting = {"kind": "python", "callable": COUNT}
    idle = [
        {"name": name, "kind": "python", "callable": NOOP}
        for status, name in BY_STATUS.items()
        if status not in (Status.FINISHED, Status.FINISHED_WITH_ERRORS)
    ]
    people = {
        "name": "import-people",
        "kind": "import",
        "description": "People from the <b>CRM</b>",
        "source": {"path": str(data / "people.csv"), "encoding": "latin-1", "header": True},
        "target": {"table": "people", "create": True, "mode": "insert"},
        "columns": [
            {"name": "id", "type": "integer", "required": True},
            {"name": "name", "type": "text"},
        ],
    }
    secret = {"password": "hunter2", "dsn": "postgresql://u:s3cret@db/x", "total": 3}
    return [
        {**counting, "name": "ok", "description": SCRIPT, "params": {"total": 30, "step": 10}},
        {
            **counting,
            "name": "too-many",
            "params": {"total": 30, "step": 10, "reject_every": 4},
            "max_rejects": 3,
        },
        {**counting, "name": "secretive", "schedule": "@every 1h", "params": secret},
        {"name": "never", "kind": "python", "callable": NOOP, "after": "ok"},
        people,
        *idle,
    ]


def write_config(
    tmp: Path, url: str, *, auth: bool, extra_jobs: list[dict[str, Any]] | None = None
) -> Path:
    """A config file for the seeded jobs (and ``extra_jobs``); with basic auth, alice
    operates and bob only reads."""
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    (data / "people.csv").write_bytes(PEOPLE_CSV)
    exporter: dict[str, Any] = {"console": {"operators": [OPERATOR]}}
    if auth:
        users = {user: bcrypt_hash(password) for user, password in PASSWORDS.items()}
        web = tmp / "web.yml"
        web.write_text(yaml.safe_dump({"basic_auth_users": users}), encoding="utf-8")
        exporter["web_config_file"] = str(web)
    document = {
        "database": {"url": url},
        "exporter": exporter,
        # The seeding runner stays up for the whole module, however long it takes.
        "runner": {"id": "seeder", "data_dirs": [str(data)], "stale_after_seconds": 86400},
        "jobs": jobs(data) + (extra_jobs or []),
    }
    path = tmp / "jobmon.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def seed(config: Config, db: Database) -> None:
    """Runs in every status: real runs for the final ones, real requests for the others."""
    catalog.sync_jobs(db, config.jobs)
    clock = Ticker(start=datetime.now(UTC) - timedelta(hours=1))
    for name in ("ok", "ok", "too-many", "import-people"):
        worker.run_once(config, db, name, clock=clock)
    _claimed(db, "crashed", clock)
    claims.reap_stale(db, 1, clock() + timedelta(seconds=5))  # no heartbeat: server_stopped
    control.start(db, "waiting", clock())  # no runner takes it: editing
    run, _ = control.start(db, "called-off", clock())
    control.cancel(db, "called-off", clock())
    run, fence = _claimed(db, "busy", clock)
    with db.write() as session:  # an import-like checkpoint: 40% of the source read
        state = {"offset": 400, "source": {"size": 1000}}
        events.save_progress(
            session, fence, run.job_id, clock(), records=40, state=state, save_state=True
        )
    _claimed(db, "slowing", clock)
    control.pause(db, "slowing", clock())
    run, fence = _claimed(db, "resting", clock)
    control.pause(db, "resting", clock())
    with db.write() as session:
        lifecycle.transition(
            session, run.id, Status.PAUSED, cause=Cause.RUNNER, now=clock(), fence=fence
        )
    _claimed(db, "stopping", clock)
    control.cancel(db, "stopping", clock())
    presence.beat(db, "seeder", datetime.now(UTC))


def _claimed(db: Database, name: str, clock: Ticker) -> tuple[Any, Any]:
    run, _ = control.start(db, name, clock())
    return run, claims.claim_run(db, run.id, "r1", clock())


def migrated(url: str) -> Database:
    db = Database(url)
    upgrade(db)
    return db


@dataclass
class Answer:
    """A page as the server sent it."""

    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8")

    def csrf(self) -> str:
        """The form token on the page."""
        found = re.search(r'name="csrf" value="([0-9a-f]*)"', self.text)
        assert found, "no control form on the page"
        return found.group(1)

    def inner(self, id_: str) -> str:
        """The HTML inside the element with ``id_``, up to its matching end tag."""
        text = self.text
        at = text.find(f'id="{id_}"')
        assert at >= 0, f"no #{id_} on the page"
        start = text.rfind("<", 0, at)
        tag = re.match(r"<(\w+)", text[start:])
        assert tag is not None
        name, depth = tag.group(1), 0
        for found in re.finditer(rf"<(/?){name}\b[^>]*>", text[start:]):
            depth += -1 if found.group(1) else 1
            if depth == 0:
                return text[text.index(">", start) + 1 : start + found.start()]
        raise AssertionError(f"#{id_} is not closed")

    def element(self, id_: str) -> str:
        """The text of the element with ``id_``: tags left out, one space between words."""
        return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", self.inner(id_))).split())


@dataclass
class Browser:
    """Requests to a running exporter as ``user`` (None: no credentials)."""

    server: ExporterServer
    user: str | None = OPERATOR

    @property
    def origin(self) -> str:
        url = urlsplit(self.server.url)
        return f"{url.scheme}://{url.netloc}"

    def get(self, path: str, **headers: str) -> Answer:
        return self.call("GET", path, None, headers)

    def post(self, path: str, fields: dict[str, str], **headers: str) -> Answer:
        sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self.call("POST", path, urlencode(fields).encode(), sent)

    def call(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        url = urlsplit(self.server.url)
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={**self._auth(), **headers})
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            conn.close()

    def _auth(self) -> dict[str, str]:
        if self.user is None:
            return {}
        token = base64.b64encode(f"{self.user}:{PASSWORDS[self.user]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@dataclass
class Site:
    """A seeded database, its config, and an exporter serving the console on it."""

    config: Config
    config_path: Path
    db: Database
    server: ExporterServer

    def browser(self, user: str | None = OPERATOR) -> Browser:
        return Browser(self.server, user)


def serve(
    tmp: Path,
    url: str,
    *,
    auth: bool = True,
    listen: str = "127.0.0.1:0",
    extra_jobs: list[dict[str, Any]] | None = None,
) -> Iterator[Site]:
    """Seed the database at ``url`` and serve the console on it until the test is over."""
    db = migrated(url)
    path = write_config(tmp, url, auth=auth, extra_jobs=extra_jobs)
    config = load(path)
    seed(config, db)
    server = ExporterServer(config, listen_address=listen)
    server.start()
    try:
        yield Site(config, path, db, server)
    finally:
        server.stop()
        db.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A seeded SQLite console with basic auth, shared by a module's reading tests."""
    tmp = tmp_path_factory.mktemp("console")
    yield from serve(tmp, f"sqlite:///{tmp / 'jobmon.db'}")


@pytest.fixture
def fresh_site(tmp_path: Path) -> Iterator[Site]:
    """A seeded SQLite console with basic auth of the test's own, for control requests."""
    yield from serve(tmp_path, f"sqlite:///{tmp_path / 'jobmon.db'}")


@pytest.fixture
def open_site(tmp_path: Path) -> Iterator[Site]:
    """A seeded console without basic auth, on loopback: anyone may act."""
    yield from serve(tmp_path, f"sqlite:///{tmp_path / 'jobmon.db'}", auth=False)
