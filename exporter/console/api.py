"""The console's JSON API under ``/api/v1/``: the documents ``jobmon ... --output json`` prints,
a page at a time, and the control requests, under the same access rules as the pages.

==========================  =========================================================
``GET jobs``                the job list (``?status=``, ``?q=`` part of the name)
``GET jobs/{name}``         the General tab, as ``jobmon show`` (``?run=N``)
``GET jobs/{name}/runs``    the job's runs, newest first
``GET jobs/{name}/journal`` a run's journal, oldest first (``?run=N``, ``?level=``)
``GET jobs/{name}/rejects`` a run's rejects by line (``?run=N``)
``POST jobs/{name}/{verb}`` ``start``, ``pause``, ``resume`` or ``cancel``: the run moved
==========================  =========================================================

A list is a JSON array of the objects the CLI prints; ``?page=`` and ``?per_page=`` choose
the page, and headers say where it sits in the whole: ``X-Total``, ``X-Total-Pages``,
``X-Page``, ``X-Per-Page`` and a ``Link`` header (``first``, ``prev``, ``next``, ``last``).
An error is ``{"error": message}``; a refused request (409) also gives the job's ``status``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from exporter.console.http import Request, Response
from exporter.console.security import Guard
from runner.core import catalog, control, documents, views
from runner.core import pages as paged
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.control import Refused, UnknownJob
from runner.core.states import Level, Status
from runner.core.storage.db import Database
from runner.core.storage.errors import DB_ERRORS, describe
from runner.core.storage.models import Job, Run

log = logging.getLogger("jobmon.exporter")

JSON_TYPE = "application/json; charset=utf-8"
VERBS = ("start", "pause", "resume", "cancel")
# Default and largest page size of each list: jobs and runs are wide, journal lines short.
PER_PAGE = {"jobs": (50, 500), "runs": (50, 500), "journal": (100, 1000), "rejects": (100, 1000)}
# Who a control request is stored as when there is no basic auth to name a user.
ANONYMOUS = "web"
CSRF_REFUSAL = (
    "cross-site request refused: send Content-Type: application/json, "
    "and an Origin header (if any) of this server"
)


class Console(Protocol):
    """What the API needs of the console (``exporter.console.app.Console``)."""

    config: Config
    db: Database
    guard: Guard


class ApiError(Exception):
    """An answer other than 200: its status, message, extra fields and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.extra, self.headers = extra or {}, headers or {}


def route(console: Console, request: Request, parts: list[str]) -> Response:
    """The answer to an API call; ``parts``: the path after ``/api/v1/``."""
    try:
        return _route(console, request, parts)
    except ApiError as exc:
        return _json(exc.status, {"error": exc.message} | exc.extra, exc.headers)
    except UnknownJob as exc:
        return _json(404, {"error": str(exc)})
    except DB_ERRORS as exc:
        log.warning("console API %s %s: %s", request.method, request.path, describe(exc))
        return _json(503, {"error": "the database did not answer; see the exporter's log"})


def _route(console: Console, request: Request, parts: list[str]) -> Response:
    if not parts or parts[0] != "jobs" or len(parts) > 3:
        raise ApiError(404, f"no API path {request.path}")
    if len(parts) == 1:
        _allow(request, "GET")
        return _jobs(console, request)
    name = parts[1]
    if len(parts) == 2:
        _allow(request, "GET")
        return _general(console, request, name)
    if parts[2] in VERBS:
        _allow(request, "POST")
        return _control(console, request, name, parts[2])
    reader = READERS.get(parts[2])
    if reader is None:
        raise ApiError(404, f"no API path {request.path}")
    _allow(request, "GET")
    with console.db.read() as session:
        return reader(session, request, _job(session, name))


def _allow(request: Request, method: str) -> None:
    if request.method != method:
        headers = {"Allow": method if method == "POST" else "GET, HEAD"}
        raise ApiError(405, f"{request.path} takes {method} only", headers=headers)


def _jobs(console: Console, request: Request) -> Response:
    status = _choice(request, "status", Status)
    number, size = _paging(request, "jobs")
    with console.db.read() as session:
        up = documents.runner_up(session, console.config, utcnow())
        search = request.arg("q")
        page = paged.job_page(
            session, runner_up=up, status=status, search=search, number=number, size=size
        )
    return _list(request, [row.as_dict() for row in page.items], page)


def _general(console: Console, request: Request, name: str) -> Response:
    number = _run_number(request)
    with console.db.read() as session:
        job = _job(session, name)
        run = views.find_run(session, job, number)
        if run is None and number is not None:
            raise UnknownJob(f"job {name!r} has no run {number}")
        up = documents.runner_up(session, console.config, utcnow())
        try:
            document = documents.general_of(session, console.config, job, run, up)
        except KeyError:
            raise UnknownJob(f"no job named {name!r} in the exporter's config") from None
    return _json(200, document)


def _runs(session: Session, request: Request, job: Job) -> Response:
    number, size = _paging(request, "runs")
    page = paged.runs_page(session, job, number, size)
    return _list(request, [views.run_dict(run) for run in page.items], page)


def _journal(session: Session, request: Request, job: Job) -> Response:
    level = _choice(request, "level", Level)
    run = _run(session, request, job)
    number, size = _paging(request, "journal")
    page = paged.journal_page(session, run, level=level, number=number, size=size)
    return _list(request, [views.row_dict(entry) for entry in page.items], page)


def _rejects(session: Session, request: Request, job: Job) -> Response:
    run = _run(session, request, job)
    number, size = _paging(request, "rejects")
    page = paged.rejects_page(session, run, number, size)
    # row_dict leaves out the bytes as read: they are for the CSV download.
    return _list(request, [views.row_dict(reject) for reject in page.items], page)


READERS: dict[str, Callable[[Session, Request, Job], Response]] = {
    "runs": _runs,
    "journal": _journal,
    "rejects": _rejects,
}


def _control(console: Console, request: Request, name: str, verb: str) -> Response:
    guard = console.guard
    if not guard.api_allowed(request):
        raise ApiError(403, CSRF_REFUSAL)
    if not guard.can_control(request.user):
        raise ApiError(403, guard.read_only_reason(request.user))
    actor = request.user or ANONYMOUS
    try:
        run = control.request(console.db, name, verb, utcnow(), actor)
    except Refused as exc:
        raise ApiError(409, str(exc), {"status": _status(console, name)}) from None
    with console.db.read() as session:
        reason = views.run_reason(session, run)
    return _json(200, documents.run_document(run, reason))


def _status(console: Console, name: str) -> str | None:
    """The job's status as it is now (None if it never ran)."""
    with console.db.read() as session:
        job = catalog.job_by_name(session, name)
        if job is None or job.latest_run_id is None:
            return None
        return Status(job.status).value


def _job(session: Session, name: str) -> Job:
    job = catalog.job_by_name(session, name)
    if job is None or not job.defined:
        raise UnknownJob(f"no job named {name!r} in the config")
    return job


def _run(session: Session, request: Request, job: Job) -> Run:
    """The run ``?run=N`` names, else the job's latest run."""
    number = _run_number(request)
    run = views.find_run(session, job, number)
    if run is None and number is not None:
        raise UnknownJob(f"job {job.name!r} has no run {number}")
    if run is None:
        raise UnknownJob(f"job {job.name!r} has not run yet")
    return run


def _run_number(request: Request) -> int | None:
    text = request.arg("run")
    return _integer("run", text) if text else None


def _paging(request: Request, kind: str) -> tuple[int, int]:
    """The page asked for and its size, within the list's limits."""
    default, most = PER_PAGE[kind]
    number = _integer("page", request.arg("page", "1"))
    size = _integer("per_page", request.arg("per_page", str(default)))
    return number, min(size, most)


def _integer(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ApiError(400, f"?{name}= takes a whole number from 1, not {text!r}")
    return int(text)


def _choice(request: Request, name: str, kind: type[Status] | type[Level]) -> Any:
    text = request.arg(name)
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ApiError(400, f"unknown {name} {text!r}: use one of {allowed}") from None


def _list(request: Request, items: list[dict[str, Any]], page: paged.Page[Any]) -> Response:
    headers = {
        "X-Total": str(page.total),
        "X-Total-Pages": str(page.pages),
        "X-Page": str(page.number),
        "X-Per-Page": str(page.size),
        "Link": _links(request, page),
    }
    return _json(200, items, headers)


def _links(request: Request, page: paged.Page[Any]) -> str:
    """RFC 8288 links to the first, previous, next and last pages, other arguments kept."""
    kept = {name: values[0] for name, values in request.query.items() if values}

    def link(number: int, rel: str) -> str:
        query = urlencode(kept | {"page": number, "per_page": page.size})
        return f'<{request.path}?{query}>; rel="{rel}"'

    wanted = {"first": 1, "prev": page.number - 1, "next": page.number + 1, "last": page.pages}
    return ", ".join(link(n, rel) for rel, n in wanted.items() if 1 <= n <= page.pages)


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode() + b"\n"
    # Live data behind a login: never cached by a browser or a proxy.
    base = {"Content-Type": JSON_TYPE, "Cache-Control": "no-store"}
    return Response(status, body, base | (headers or {}))
