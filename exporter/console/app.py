"""The console's routes: pages, the rejects download, control forms, static files and the API.

URLs are stable so dashboards and alerts can link to them: ``/`` (to ``/jobs``), ``/jobs``,
``/jobs/{name}`` (General), ``/jobs/{name}/journal``, ``/jobs/{name}/rejects``,
``/jobs/{name}/runs``, ``/jobs/{name}/rejects.csv``; ``?run=N`` picks an older run on any tab.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from importlib import resources

from exporter.console import api, pages
from exporter.console.http import Request, Response
from exporter.console.security import HEADERS, Guard
from runner.core.config import Config
from runner.core.storage.db import Database

TABS = ("journal", "rejects", "runs")
VERBS = ("start", "pause", "resume", "cancel")
STATIC = resources.files("exporter.console").joinpath("static")


@dataclass
class Console:
    """Everything a console page or API call reads: the config, its own database pool and
    the access rules."""

    config: Config
    db: Database
    guard: Guard
    metrics_path: str = "/metrics"

    def handle(self, request: Request) -> Response | None:
        """The response to a console request; None when the path is not the console's."""
        response = self._route(request)
        if response is not None:
            response.headers = {**HEADERS, **response.headers}
        return response

    def _route(self, request: Request) -> Response | None:
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            return Response.redirect("/jobs", 302)
        if parts[0] == "static" and len(parts) == 2:
            return _static(parts[1])
        if parts[:2] == ["api", "v1"]:
            return api.route(self, request, parts[2:])
        if parts[0] != "jobs":
            return None
        return self._jobs(request, parts[1:])

    def _jobs(self, request: Request, rest: list[str]) -> Response:
        post = request.method == "POST"
        if not rest:
            return pages.job_list(self, request) if not post else _not_allowed("GET")
        name, tab = rest[0], rest[1] if len(rest) > 1 else ""
        if len(rest) > 2:
            return pages.not_found(self, request, f"no page {request.path}")
        if post:
            if tab in VERBS:
                return pages.control(self, request, name, tab)
            return _not_allowed("GET")
        if tab == "rejects.csv":
            return pages.rejects_csv(self, request, name)
        if tab in VERBS:
            return _not_allowed("POST")
        if tab and tab not in TABS:
            return pages.not_found(self, request, f"no tab {tab!r}")
        return pages.job_tab(self, request, name, tab or "general")


def _static(name: str) -> Response:
    resource = STATIC.joinpath(name)
    if "/" in name or name.startswith(".") or not resource.is_file():
        return Response(404, b"Not Found\n")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    charset = "; charset=utf-8" if kind.startswith("text/") or kind.endswith("javascript") else ""
    headers = {"Content-Type": kind + charset, "Cache-Control": "max-age=300"}
    return Response(200, resource.read_bytes(), headers)


def _not_allowed(allow: str) -> Response:
    return Response(405, b"Method Not Allowed\n", {"Allow": allow})
