"""``jobmon``: the command line (SPEC §4). Exit codes: 0 success, 1 runtime error, 2 usage or
config error, 3 refused transition."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeAlias

from rich.markup import escape

from runner import __version__
from runner.cli import commands, control, general, journal, listing, logs, rejects
from runner.cli.commands import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from runner.cli.output import errors
from runner.core.config import Config, ConfigError, load
from runner.core.config.secrets import redact
from runner.core.control import Refused, UnknownJob
from runner.core.storage.errors import DB_ERRORS, describe
from runner.executor.lock import RunnerLockError

Command = Callable[[Config, argparse.Namespace], int]


DEFAULT_CONFIG = "config.yaml"
OUTPUTS = ("table", "json")


def _common(*, defaults: bool) -> argparse.ArgumentParser:
    """``--config`` and ``--output``, accepted before the command and after it.

    After the command they default to nothing, so a value given before it is kept.
    """
    common = argparse.ArgumentParser(add_help=False)
    config = os.environ.get("JOBMON_CONFIG", DEFAULT_CONFIG) if defaults else argparse.SUPPRESS
    common.add_argument(
        "--config", default=config, help="config file (default: $JOBMON_CONFIG or config.yaml)"
    )
    output = "table" if defaults else argparse.SUPPRESS
    common.add_argument("--output", choices=OUTPUTS, default=output, help="table or json")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per SPEC §4 command."""
    parser = argparse.ArgumentParser(
        prog="jobmon",
        description="Run data jobs; watch them from Prometheus and Grafana.",
        parents=[_common(defaults=True)],
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument("--version", action="version", version=f"jobmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serving(sub, "run", commands.cmd_run, "runner and exporter in one process")
    _command(sub, "runner", "the runner alone").set_defaults(func=commands.cmd_runner)
    _serving(sub, "exporter", commands.cmd_exporter, "the Prometheus exporter alone")
    _command(sub, "check-config", "validate the config and exit").set_defaults(
        func=commands.cmd_check_config
    )
    db = _command(sub, "db", "database maintenance").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    _command(db, "upgrade", "apply migrations").set_defaults(func=commands.cmd_db_upgrade)
    _listing(sub, "jobs", listing.cmd_jobs, "every job with its status", job=False)
    _listing(sub, "show", general.cmd_show, "a job's definition and run (General tab)")
    journaled = _listing(sub, "journal", journal.cmd_journal, "a run's journal (Journal tab)")
    journaled.add_argument("--limit", type=int, default=None, help="only the newest N lines")
    journaled.add_argument("--follow", action="store_true", help=journal.FOLLOW_HELP)
    rejected = _listing(sub, "rejects", rejects.cmd_rejects, "a run's rejects (Rejects tab)")
    rejected.add_argument("--format", choices=["csv"], help=rejects.FORMAT_HELP)
    start = _control(sub, "start", control.cmd_start, "start (or restart) a job")
    start.add_argument("--wait", action="store_true", help=control.WAIT_HELP)
    start.add_argument("--timeout", type=float, default=None, help="give up waiting after N s")
    _control(sub, "pause", control.cmd_pause, "pause the running run at its next checkpoint")
    _control(sub, "resume", control.cmd_resume, "resume a paused or server-stopped run")
    _control(sub, "cancel", control.cmd_cancel, "cancel the latest run")
    return parser


# argparse's sub-parser action is generic for type checkers only.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _command(sub: Commands, name: str, text: str) -> argparse.ArgumentParser:
    """A sub-command that also takes ``--config`` and ``--output`` after its name."""
    return sub.add_parser(name, help=text, parents=[_common(defaults=False)])


def _serving(sub: Commands, name: str, func: Command, text: str) -> None:
    parser = _command(sub, name, text)
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        # Containers set the address without a config change (0.0.0.0:9736 in a pod).
        default=os.environ.get("JOBMON_LISTEN_ADDRESS") or None,
        help="exporter address (default: $JOBMON_LISTEN_ADDRESS, else exporter.listen_address)",
    )
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        default=None,
        help="exporter-toolkit web config (TLS, basic auth)",
    )
    parser.set_defaults(func=func)


def _listing(
    sub: Commands, name: str, func: Command, text: str, *, job: bool = True
) -> argparse.ArgumentParser:
    parser = _command(sub, name, text)
    if job:
        parser.add_argument("job", help="job name")
        parser.add_argument(
            "--run",
            type=int,
            default=None,
            metavar="N",
            help="an older run: its number within the job",
        )
    parser.set_defaults(func=func)
    return parser


def _control(sub: Commands, name: str, func: Command, text: str) -> argparse.ArgumentParser:
    parser = _command(sub, name, text)
    parser.add_argument("job", help="job name")
    parser.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jobmon`` console script."""
    args = build_parser().parse_args(argv)
    missing = _missing_config(args.config)
    if missing:
        print(missing, file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    secrets = config.secrets()
    logs.setup(args.log_level, secrets)
    try:
        return int(args.func(config, args))
    except ConfigError as exc:  # the web config file, read when the exporter starts
        print(redact(str(exc), secrets), file=sys.stderr)
        return EXIT_USAGE
    except Refused as exc:
        return _fail(str(exc), EXIT_REFUSED, args, secrets)
    except UnknownJob as exc:
        return _fail(str(exc), EXIT_USAGE, args, secrets)
    except DB_ERRORS as exc:
        return _fail(f"database error: {describe(exc)}", EXIT_ERROR, args, secrets)
    except BrokenPipeError:  # `jobmon jobs | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (RunnerLockError, TimeoutError, OSError, ValueError) as exc:
        return _fail(str(exc), EXIT_ERROR, args, secrets)
    except KeyboardInterrupt:
        return EXIT_ERROR


def _missing_config(path: str) -> str:
    """What to say when the config file is not there (empty when it is)."""
    if os.path.exists(path):
        return ""
    source = "$JOBMON_CONFIG" if os.environ.get("JOBMON_CONFIG") else "the default"
    return (
        f"{path}: no such config file (looked at {os.path.abspath(path)}, {source}). "
        "Point at one with --config FILE (before or after the command) or JOBMON_CONFIG=FILE; "
        "config.example.yaml runs as it is: jobmon --config config.example.yaml run"
    )


def _fail(message: str, code: int, args: argparse.Namespace, secrets: list[str]) -> int:
    if args.log_level == "debug":
        logging.getLogger("jobmon").exception("%s", message)
    errors.print(f"[red]error:[/] {escape(redact(message, secrets))}")
    return code


if __name__ == "__main__":
    sys.exit(main())
