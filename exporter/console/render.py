"""The console's HTML: one Jinja2 environment that escapes every value, the filters that write
times, durations and counts the way the CLI does, and links that keep the page's arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined

from exporter.console.http import Request, Response
from runner import __version__
from runner.core.states import Level, Status
from runner.core.views import run_duration
from runner.core.wording import duration, plural, relative

HTML_TYPE = "text/html; charset=utf-8"

ENV = Environment(
    loader=PackageLoader("exporter.console", "templates"),
    # Every value is escaped unless a template says otherwise (none does): a job description
    # or a rejected record holding markup shows as text.
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Here:
    """The page's own URL, to link to the same page with some arguments changed."""

    path: str
    args: Mapping[str, str]

    @classmethod
    def of(cls, request: Request, path: str | None = None) -> Here:
        """The request's path (or ``path``) and its arguments, one value each."""
        args = {name: values[0] for name, values in request.query.items() if values}
        return cls(path or request.path, args)

    def url(self) -> str:
        """The page as it is."""
        return self.with_()

    def with_(self, **changes: str | int | None) -> str:
        """The page with ``changes`` applied; None removes an argument."""
        args = dict(self.args)
        for name, value in changes.items():
            if value is None or value == "":
                args.pop(name, None)
            else:
                args[name] = str(value)
        return self.path + ("?" + urlencode(args) if args else "")


def job_url(name: str, tab: str = "", run: int | None = None, **args: str | int) -> str:
    """A job tab's stable URL: ``/jobs/NAME``, ``/jobs/NAME/journal?run=3``."""
    path = "/jobs/" + quote(name, safe="") + (f"/{tab}" if tab and tab != "general" else "")
    query: dict[str, str | int] = {"run": run} if run is not None else {}
    query.update(args)
    return path + ("?" + urlencode(query) if query else "")


def page(template: str, values: Mapping[str, Any], status: int = 200) -> Response:
    """An HTML page from ``template``; live data behind a login, so never cached."""
    body = ENV.get_template(template).render(values).encode()
    headers = {"Content-Type": HTML_TYPE, "Cache-Control": "no-store"}
    return Response(status, body, headers)


def iso(value: datetime | None) -> str:
    """ISO 8601 in UTC, for ``<time datetime>`` and scripts."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def local(value: datetime | None) -> str:
    """The time to the second, in the server's zone (the page's script shows the reader's)."""
    return "-" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def count(value: int | None) -> str:
    """``1,234``; a dash for nothing."""
    return "-" if value is None else f"{value:,}"


def percent(done: int, total: int) -> str:
    """``42%`` of ``total``, rounded down so 100% means done."""
    return f"{done * 100 // max(total, 1)}%"


ENV.filters.update(
    iso=iso,
    local=local,
    ago=relative,
    duration=duration,
    count=count,
    percent=percent,
    plural=plural,
)
ENV.globals.update(
    job_url=job_url, Status=Status, Level=Level, run_duration=run_duration, version=__version__
)
