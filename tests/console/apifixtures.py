"""Helpers for the console API tests: a config with real runs, a client, the CLI's JSON."""

from __future__ import annotations

import base64
import http.client
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from exporter.server import ExporterServer
from runner.core.config import load
from runner.core.storage.db import Database
from runner.executor import worker
from tests.e2e.procs import jobmon
from tests.exporter.conftest import bcrypt_hash
from tests.runner.support import EXAMPLE_JOBS, Ticker

OPERATOR, READER = "alice", "bob"
PASSWORDS = {OPERATOR: "alice-pw", READER: "bob-pw"}
# Runs made by real runs of the example jobs: finished, with rejects, failed, crashed.
SEEDED_RUNS = ("ok", "ok", "too-many", "tolerated", "failing", "crash")
JSON_BODY = {"Content-Type": "application/json"}


def write_config(tmp_path: Path, url: str, *, auth: bool) -> Path:
    """A config of the example jobs (plus ``never``, which never runs) and its web config."""
    jobs = [{"kind": "python", "callable": "runner.examples:count", **j} for j in EXAMPLE_JOBS]
    jobs.append({"name": "never", "kind": "python", "callable": "runner.examples:noop"})
    exporter: dict[str, Any] = {"console": {"operators": [OPERATOR]}}
    if auth:
        users = {user: bcrypt_hash(password) for user, password in PASSWORDS.items()}
        web = tmp_path / "web.yml"
        web.write_text(yaml.safe_dump({"basic_auth_users": users}), encoding="utf-8")
        exporter["web_config_file"] = str(web)
    path = tmp_path / "jobmon.yaml"
    document = {"database": {"url": url}, "exporter": exporter, "jobs": jobs}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def seed(path: Path) -> None:
    """Real runs of the example jobs, in the config's database."""
    config = load(path)
    db = Database(config.database.url)
    try:
        for name in SEEDED_RUNS:
            worker.run_once(config, db, name, clock=Ticker())
    finally:
        db.dispose()


def cli_json(path: Path, *args: str) -> Any:
    """What ``jobmon ARGS --output json`` prints, parsed (the CLI run as a user runs it)."""
    done = jobmon(path, *args, "--output", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass
class Reply:
    """An API answer: status, headers and the JSON body."""

    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    @property
    def data(self) -> Any:
        assert self.headers["Content-Type"] == "application/json; charset=utf-8", self.raw
        return json.loads(self.raw)


@dataclass
class Client:
    """Calls to a running exporter's console API, as ``user`` (None: no credentials)."""

    server: ExporterServer
    user: str | None = OPERATOR
    password: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **headers: str) -> Reply:
        return self.call("GET", path, headers=headers)

    def post(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.call("POST", path, b"{}", JSON_BODY if headers is None else headers)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = urlsplit(self.server.url)
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        sent = {**self._auth(), **(headers or {})}
        try:
            conn.request(method, "/api/v1/" + path, body=body, headers=sent)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    @property
    def origin(self) -> str:
        url = urlsplit(self.server.url)
        return f"{url.scheme}://{url.netloc}"

    def _auth(self) -> dict[str, str]:
        if self.user is None:
            return {}
        password = self.password or PASSWORDS.get(self.user, "")
        token = base64.b64encode(f"{self.user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
