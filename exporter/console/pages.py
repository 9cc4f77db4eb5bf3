"""The console's pages: the job list, a job's tabs, the rejects download, control forms and
the error pages. Each reads in one short transaction and renders a template
(:mod:`exporter.console.render`); HTML is never built from strings here."""

from __future__ import annotations

import re
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy.orm import Session

from exporter.console import render, tabs
from exporter.console.http import Request, Response
from exporter.console.render import Here, job_url
from exporter.console.security import Guard
from runner.core import catalog, presence, views
from runner.core import control as core_control
from runner.core import pages as paged
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.rejects_csv import rejects_file
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job

JOBS_PER_PAGE = 50
# Seconds between the page's own refreshes (console.js; 0 would turn them off).
REFRESH_SECONDS = 5
# Who a control request is stored as when there is no basic auth to name a user.
ANONYMOUS = "web"
CROSS_SITE = (
    "This request did not come from this console's own page (missing or wrong form token, "
    "or another Origin): nothing was changed. Reload the page and try again."
)


class Console(Protocol):
    """What the pages need of the console (``exporter.console.app.Console``)."""

    config: Config
    db: Database
    guard: Guard
    metrics_path: str


class Missing(Exception):
    """A page that does not exist: the message says what is missing."""


def frame(console: Console, request: Request, here: Here, title: str) -> dict[str, Any]:
    """What the layout around every page needs: who is reading and whether they may act."""
    read_only = console.guard.read_only_reason(request.user)
    return {
        "title": title,
        "here": here,
        "user": request.user,
        "read_only": read_only,
        "csrf": "" if read_only else console.guard.token(request.user),
        "metrics_path": console.metrics_path,
        "refresh_seconds": REFRESH_SECONDS,
    }


def job_list(console: Console, request: Request) -> Response:
    """Every job with its status, last and next run; counts per status, search, paging."""
    try:
        status = Status(request.arg("status")) if request.arg("status") else None
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        message = f"unknown status {request.arg('status')!r}: use one of {allowed}"
        return error(console, request, 400, message)
    search = request.arg("q").strip()
    number = request.int_arg("page", 1)
    with console.db.read() as session:
        stale = console.config.runner.stale_after_seconds
        up = presence.runners_up(session, utcnow(), stale) > 0
        counts = paged.status_counts(session)
        page = paged.job_page(
            session, runner_up=up, status=status, search=search, number=number, size=JOBS_PER_PAGE
        )
    values = frame(console, request, Here.of(request, "/jobs"), "Jobs") | {
        "counts": counts,
        "total": sum(counts.values()),
        "status": status,
        "q": search,
        "page": page,
        "runner_up": up,
    }
    return render.page("jobs.html", values)


def job_tab(console: Console, request: Request, name: str, tab: str) -> Response:
    """One of a job's tabs (general, journal, rejects, runs), for ``?run=N`` or the latest."""
    return _tab(console, request, name, tab)


def _tab(
    console: Console, request: Request, name: str, tab: str, refusal: str = "", status: int = 200
) -> Response:
    try:
        with console.db.read() as session:
            job = _job(session, name)
            run = views.find_run(session, job, _run_number(request, name))
            if run is None and request.arg("run"):
                raise Missing(f"job {name!r} has no run {request.arg('run')}")
            shown = tabs.Shown(session, console.config, request, job, run, utcnow())
            here = Here.of(request, job_url(name, tab))
            # A refused request re-renders the tab: its refreshes read the tab, not the form.
            values = frame(console, request, here, f"{name} · {tab}") | {
                "tab": tab,
                "refusal": refusal,
                **tabs.header(shown),
                **tabs.CONTENT[tab](shown),
            }
            return render.page(f"{tab}.html", values, status)
    except Missing as exc:
        return not_found(console, request, str(exc))


def _job(session: Session, name: str) -> Job:
    job = catalog.job_by_name(session, name)
    if job is None or not job.defined:
        raise Missing(f"no job named {name!r} in the config")
    return job


def _run_number(request: Request, name: str) -> int | None:
    text = request.arg("run")
    if not text:
        return None
    if not text.isdigit():
        raise Missing(f"job {name!r} has no run {text!r}: runs are numbered 1, 2, 3...")
    return int(text)


def rejects_csv(console: Console, request: Request, name: str) -> Response:
    """The run's rejects, byte for byte what ``jobmon rejects --format csv`` writes."""
    try:
        with console.db.read() as session:
            job = _job(session, name)
            run = views.find_run(session, job, _run_number(request, name))
            if run is None:
                what = f"no run {request.arg('run')}" if request.arg("run") else "not run yet"
                raise Missing(f"job {name!r} has {what}")
            body = rejects_file(session, console.config, name, run)
    except Missing as exc:
        return not_found(console, request, str(exc))
    filename = f"{name}-run-{run.number}-rejects.csv"
    return Response(200, body, {"Content-Type": "text/csv", **_attachment(filename)})


def _attachment(filename: str) -> dict[str, str]:
    """Content-Disposition for ``filename``: plain ASCII, and the exact name for browsers
    that read RFC 6266's ``filename*``."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    exact = quote(filename, safe="")
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}"
    return {"Content-Disposition": disposition, "Cache-Control": "no-store"}


def control(console: Console, request: Request, name: str, verb: str) -> Response:
    """A Start, Pause, Resume or Cancel form: the run moves, or the tab says why not (409)."""
    guard = console.guard
    if not guard.form_allowed(request, request.form()):
        return error(console, request, 403, CROSS_SITE)
    if not guard.can_control(request.user):
        return error(console, request, 403, guard.read_only_reason(request.user))
    actor = request.user or ANONYMOUS
    try:
        core_control.request(console.db, name, verb, utcnow(), actor)
    except core_control.UnknownJob as exc:
        return not_found(console, request, str(exc))
    except core_control.Refused as exc:
        get = Request("GET", job_url(name), {}, request.headers, b"", request.user)
        return _tab(console, get, name, "general", refusal=str(exc), status=409)
    return Response.redirect(job_url(name), 303)


def not_found(console: Console, request: Request, message: str) -> Response:
    """The 404 page: what is missing, and the way back to the job list."""
    return error(console, request, 404, message)


def error(console: Console, request: Request, status: int, message: str) -> Response:
    """An error page with ``status`` and ``message``."""
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found"}
    title = titles.get(status, "Error")
    values = frame(console, request, Here.of(request), title) | {
        "status": status,
        "message": message,
        "refresh_seconds": 0,
    }
    return render.page("error.html", values, status)
