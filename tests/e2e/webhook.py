"""A local Alertmanager webhook receiver: collects the JSON payloads POSTed to it.

It listens on 127.0.0.1 on a port chosen by the OS and keeps every payload, in arrival order,
in a list guarded by a lock (the server answers each request in its own thread).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(body)
        except ValueError:
            self.send_error(400, "not JSON")
            return
        self.server.receiver.add(payload)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test reports what it received when it fails


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records Alertmanager webhook payloads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._payloads: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where Alertmanager should POST."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/alerts"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def add(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self._payloads.append(payload)

    def payloads(self) -> list[dict[str, Any]]:
        """A copy of every payload received so far."""
        with self._lock:
            return list(self._payloads)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of every payload, in arrival order (each with its own ``status``)."""
        return [alert for payload in self.payloads() for alert in payload.get("alerts", [])]

    def find(self, alertname: str, job_name: str, status: str) -> dict[str, Any] | None:
        """The first alert received named ``alertname`` for ``job_name`` in ``status``."""
        for alert in self.alerts():
            labels = alert.get("labels", {})
            if (labels.get("alertname"), labels.get("job_name"), alert.get("status")) == (
                alertname,
                job_name,
                status,
            ):
                return alert
        return None

    def summary(self) -> list[tuple[str, str, str]]:
        """(alertname, job_name, status) of each alert received, for failure messages."""
        return [
            (a["labels"].get("alertname", ""), a["labels"].get("job_name", ""), a["status"])
            for a in self.alerts()
        ]
