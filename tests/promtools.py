"""The Prometheus tools (promtool, prometheus, alertmanager, amtool) for tests, and launchers.

``make test`` installs Debian's packages. When a binary is missing, a local run skips the test
that needs it; in CI (``CI=true``) it fails instead, so a missing tool can never pass silently.

:class:`PrometheusServer` and :class:`AlertmanagerServer` run the real servers on 127.0.0.1 and
a free port, with their data in a given directory. Prometheus 2.42 hands new targets to its
scrapers on a fixed 5 s tick, so its first scrape comes 5-6 s after start: start one per test
session, with scrape targets known in advance (fixed ports the tests' exporters listen on).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

T = TypeVar("T")


# Debian ships Alertmanager as /usr/bin/prometheus-alertmanager.
ALIASES = {"alertmanager": ("prometheus-alertmanager",)}


def tool(name: str) -> str:
    """The path of the binary ``name``; fail in CI, skip elsewhere, when it is missing."""
    for candidate in (name, *ALIASES.get(name, ())):
        path = shutil.which(candidate)
        if path is not None:
            return path
    message = f"{name} not found on PATH (make test installs Debian's prometheus packages)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], T | None], timeout: float = 20.0, what: str = "") -> T:
    """Poll ``check`` until it returns something other than None/False; fail at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except (OSError, ValueError) as exc:  # not up yet, connection refused, bad answer
            last = exc
        if last is not None and last is not False and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}: last {last!r}")
        time.sleep(0.2)


def _get(url: str, timeout: float = 5.0, data: bytes | None = None) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=timeout) as r:
        return bytes(r.read())


class _Server:
    """A server binary started on 127.0.0.1:PORT, stopped by :meth:`stop`."""

    binary = ""

    def __init__(self, config: dict[str, Any], directory: Path) -> None:
        self.config, self.directory = config, directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_file = directory / f"{self.binary}.yml"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def arguments(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait for ``/-/ready``; retried on another port if the port was taken."""
        self.write_config(self.config)
        for _ in range(3):
            self.port = free_port()
            log = (self.directory / f"{self.binary}.log").open("ab")
            self.process = subprocess.Popen(
                [tool(self.binary), *self.arguments()], stdout=log, stderr=log
            )
            log.close()
            if self._wait_ready(timeout):
                return
        raise AssertionError(f"{self.binary} did not start: see {self.directory}")

    def _wait_ready(self, timeout: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # exited: most likely the port was taken
            try:
                _get(f"{self.url}/-/ready", timeout=1)
                return True
            except OSError:
                time.sleep(0.1)
        self.stop()
        return False

    def write_config(self, config: dict[str, Any]) -> None:
        """Write ``config`` as the server's YAML config file."""
        self.config = config
        self.config_file.write_text(yaml.safe_dump(config), encoding="utf-8")

    def reload(self, config: dict[str, Any]) -> None:
        """Write a new config and ask the server to load it."""
        self.write_config(config)
        _get(f"{self.url}/-/reload", data=b"")

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


class PrometheusServer(_Server):
    """A real Prometheus with lifecycle API (``reload``) and a query helper."""

    binary = "prometheus"

    def arguments(self) -> list[str]:
        return [
            f"--config.file={self.config_file}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--storage.tsdb.path={self.directory / 'data'}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of an API answer; raises on an error status."""
        query = urllib.parse.urlencode(params)
        answer = json.loads(_get(f"{self.url}/api/v1/{path}?{query}"))
        if answer.get("status") != "success":
            raise ValueError(f"Prometheus API error: {answer}")
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result of an instant query (a vector: ``metric`` labels and ``value``)."""
        return list(self.api("query", query=expr)["result"])

    def values(
        self, expr: str, drop: tuple[str, ...] = ()
    ) -> dict[frozenset[tuple[str, str]], float]:
        """An instant vector as ``{labels: value}``, without the labels named in ``drop``."""
        return {
            frozenset((k, v) for k, v in r["metric"].items() if k not in drop): float(r["value"][1])
            for r in self.query(expr)
        }

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets with their health and last error."""
        return list(self.api("targets", state="active")["activeTargets"])


class AlertmanagerServer(_Server):
    """A real Alertmanager, without clustering (no gossip port opened)."""

    binary = "alertmanager"

    def arguments(self) -> list[str]:
        return [
            f"--config.file={self.config_file}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--storage.path={self.directory / 'data'}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds (``/api/v2/alerts``)."""
        return list(json.loads(_get(f"{self.url}/api/v2/alerts")))
