"""The CLI's commands (SPEC §4). Each takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from runner.cli import output
from runner.core import catalog
from runner.core.config import Config
from runner.core.storage.db import Database
from runner.core.storage.migrate import current_revision, upgrade
from runner.executor import lock

log = logging.getLogger("jobmon")
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


def open_database(config: Config) -> Database:
    """The jobmon database, migrated to the newest schema, with the config's jobs synced."""
    db = Database(config.database.url, idle_seconds=config.runner.stale_after_seconds)
    upgrade(db)
    catalog.sync_jobs(db, config.jobs)
    return db


def cmd_check_config(config: Config, args: argparse.Namespace) -> int:
    """The config loaded; check the web config file it names too, then say so."""
    from exporter import webconfig

    web = config.exporter.web_config_file
    if web:
        webconfig.load(web)  # a WebConfigError lists every problem; exit 2
    checked = f" and {web}" if web else ""
    output.console.print(f"{args.config}{checked}: OK, {len(config.jobs)} jobs")
    return EXIT_OK


def cmd_db_upgrade(config: Config, args: argparse.Namespace) -> int:
    """Apply migrations."""
    db = Database(config.database.url)
    before = current_revision(db)
    revision = upgrade(db)
    change = "already at" if before == revision else f"upgraded from {before or 'empty'} to"
    output.console.print(f"database {db.safe_url}: {change} revision {revision}")
    return EXIT_OK


def cmd_runner(config: Config, args: argparse.Namespace) -> int:
    """The runner alone."""
    return _serve(config, args, with_runner=True, with_exporter=False)


def cmd_exporter(config: Config, args: argparse.Namespace) -> int:
    """The exporter alone."""
    return _serve(config, args, with_runner=False, with_exporter=True)


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Runner and exporter in one process (the main job)."""
    return _serve(config, args, with_runner=True, with_exporter=True)


def _serve(
    config: Config, args: argparse.Namespace, *, with_runner: bool, with_exporter: bool
) -> int:
    from runner.executor.worker import Runner

    stop = threading.Event()
    runner: Runner | None = None
    runner_lock = None
    if with_runner:
        db = open_database(config)
        runner_lock = lock.acquire(db)  # held until this process ends
        runner = Runner(config, db)
    exporter = _start_exporter(config, args) if with_exporter else None

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()
        if runner is not None:
            runner.stop()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        if runner is not None:
            runner.run()
        else:
            while not stop.wait(1):
                pass
    finally:
        if exporter is not None:
            exporter.stop()
        if runner_lock is not None:
            runner_lock.close()
    return EXIT_OK


def _start_exporter(config: Config, args: argparse.Namespace) -> Any:
    from exporter.server import ExporterServer

    server = ExporterServer(
        config, listen_address=args.listen_address, web_config_file=args.web_config_file
    )
    server.start()  # it logs where it listens, once
    return server
