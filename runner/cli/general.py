"""``jobmon show JOB``: the General tab — the job's definition, its run and what happened."""

from __future__ import annotations

import argparse
from typing import Any

from rich.markup import escape
from rich.table import Table

from runner.cli import output
from runner.cli.commands import EXIT_OK, open_database
from runner.cli.listing import job_and_maybe_run, runner_up
from runner.core import documents, views
from runner.core.config import Config
from runner.core.definition import definition
from runner.core.states import Status
from runner.core.storage.models import Job, Run, Transition
from runner.core.wording import duration, plural


def cmd_show(config: Config, args: argparse.Namespace) -> int:
    """The General tab: definition, the run (latest or ``--run N``), next run, transitions."""
    db = open_database(config)
    job, run = job_and_maybe_run(db, args.job, args.run)
    with db.read() as session:
        up = runner_up(session, config)
        moves = views.transitions(session, run) if run else []
        reason = views.run_reason(session, run) if run else None
    fields = definition(config.job(job.name), config.secrets())
    if args.output == "json":
        output.print_json(documents.general(fields, job, run, reason, moves, up))
        return EXIT_OK
    _definition_table(fields, job, up)
    if run is not None:
        _run_table(run, reason, job)
        _transitions_table(moves)
    else:
        output.console.print("no run yet")
    return EXIT_OK


def _next_run(job: Job, up: bool) -> str:
    if not up:
        return "no runner up"
    if job.next_run_at is not None:
        return output.when(job.next_run_at)
    return f"after {job.after} finishes" if job.after else "when started by hand"


def _definition_table(fields: dict[str, Any], job: Job, up: bool) -> None:
    shown = dict(fields)
    name, description = shown.pop("name"), shown.pop("description")
    shown["limits"] = _limits(shown.pop("max_rejects"), shown.pop("max_duration_seconds"))
    params = shown.pop("parameters")
    if params is not None:
        shown["parameters"] = ", ".join(f"{k}={v}" for k, v in params.items()) or "none"
    shown["next run"] = _next_run(job, up)
    title = f"[bold]{name}[/]" + (f": {escape(description)}" if description else "")
    _pairs(title, {k: v for k, v in shown.items() if v is not None})


def _limits(max_rejects: int | None, max_seconds: float | None) -> str:
    rejects = (
        "no reject limit" if max_rejects is None else f"at most {plural(max_rejects, 'reject')}"
    )
    took = "no time limit" if max_seconds is None else f"at most {duration(max_seconds)}"
    return f"{rejects}; {took}"


def _run_table(run: Run, reason: str | None, job: Job) -> None:
    limit = f" (limit {job.max_rejects:,})" if job.max_rejects is not None else ""
    fields = {
        "reason": escape(reason) if reason else None,
        "started": output.when(run.started_at) if run.started_at else "not yet",
        "ended": output.when(run.ended_at) if run.ended_at else None,
        "duration": duration(views.run_duration(run)),
        "records": f"{run.records:,}",
        "rejects": f"{run.rejects:,}{limit}",
        "attempt": f"{run.attempt}" + (f" on runner {run.claimed_by}" if run.claimed_by else ""),
    }
    title = f"[bold]run {run.number}[/]: {output.status_text(Status(run.status))}"
    _pairs(title, {k: v for k, v in fields.items() if v is not None}, markup=True)


def _transitions_table(moves: list[Transition]) -> None:
    rows = [[t.at, t.from_status, t.to_status, t.cause, t.reason] for t in moves]
    output.rows_table("transitions", ["at", "from", "to", "cause", "reason"], rows)


def _pairs(title: str, values: dict[str, Any], *, markup: bool = False) -> None:
    output.console.print(title)
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in values.items():
        table.add_row(key, str(value) if markup else escape(str(value)))
    output.console.print(table, "")
