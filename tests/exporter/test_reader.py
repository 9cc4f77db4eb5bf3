"""Scrapes of a real database (SQLite, PostgreSQL, MariaDB): every value equals the database's."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from exporter.deflate import plain_pieces
from exporter.formats import Format
from exporter.reader import Reader
from exporter.scrape import Scraper
from runner.core import retention, totals
from runner.core.storage.db import Database
from runner.core.storage.models import Job
from tests.exporter.expo import job_samples, samples, value
from tests.exporter.scenario import T0, expected, populate


def scrape_text(scraper: Scraper, fmt: Format = Format.TEXT, budget: float = 5.0) -> str:
    return plain_pieces(scraper.scrape(budget, fmt).pieces).decode()


@pytest.fixture
def scraper(db: Database, db_url: str) -> Iterator[Scraper]:
    populate(db)
    own = Scraper(Database(db_url), "1.0")
    yield own
    own.close()


def test_scrape_values_equal_the_database(scraper: Scraper, db: Database) -> None:
    want = expected(db)
    assert job_samples(scrape_text(scraper)) == want
    om = scrape_text(scraper, Format.OPENMETRICS)
    assert job_samples(om, openmetrics=True) == want


def test_scrape_skips_jobs_removed_from_the_config(scraper: Scraper) -> None:
    names = {dict(labels).get("job_name") for _, labels in samples(scrape_text(scraper))}
    assert "zulu-removed" not in names
    assert "alpha-never" in names


def test_scrape_shows_a_never_run_job_as_editing(scraper: Scraper) -> None:
    text = scrape_text(scraper)
    assert value(text, "jobmon_job_status", job_name="alpha-never", status="editing") == 1
    assert value(text, "jobmon_job_heartbeat_timestamp_seconds", job_name="alpha-never") == 0
    assert value(text, "jobmon_job_last_run_rejected_records", job_name="alpha-never") == 0


def test_scrape_follows_the_database_at_every_scrape(scraper: Scraper, db: Database) -> None:
    scrape_text(scraper)
    with db.write() as session:  # as the runner's writers do
        for job_id in session.scalars(sa.select(Job.id)):
            totals.bump(session, job_id, {"records_total": 5})
    assert job_samples(scrape_text(scraper)) == expected(db)


def test_counters_do_not_change_when_retention_prunes_runs(scraper: Scraper, db: Database) -> None:
    before = job_samples(scrape_text(scraper))
    assert retention.prune(db, days=1, now=T0 + timedelta(days=30)) >= 1
    with db.write() as session:  # and the journal and rejects of every run, as a plain DELETE
        session.execute(sa.text("DELETE FROM journal"))
        session.execute(sa.text("DELETE FROM rejects"))
    assert job_samples(scrape_text(scraper)) == before


def test_scrape_reads_the_database_with_one_select(scraper: Scraper) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("SELECT") and "jobs.id" in statement:
            statements.append(statement)

    event.listen(scraper.db.engine, "before_cursor_execute", record)
    scrape_text(scraper)
    assert len(statements) == 1  # every job's row, on the first scrape
    scrape_text(scraper)
    assert len(statements) == 2  # then, when nothing changed, no job's row
    if scraper.db.dialect != "mariadb":  # the ids of the jobs written since, by revision
        assert "revision >=" in statements[1]
    else:  # every job's marks
        assert "revision" in statements[1] and "heartbeat_at" not in statements[1]


@contextmanager
def locked(db: Database, backend: str, *others: Database) -> Iterator[None]:
    """Hold a lock that makes the exporter's read wait (a reader in WAL mode, for SQLite)."""
    if backend == "sqlite":
        for database in (db, *others):  # an exclusive lock needs every other connection closed
            database.dispose()
        holder = sqlite3.connect(str(db.url.database), isolation_level=None)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE job_totals SET runs_total = runs_total")
        holder.execute("COMMIT")  # the exclusive file lock stays until the connection closes
        yield
        holder.close()
        return
    with db.engine.connect() as conn:
        if backend == "mariadb":
            conn.exec_driver_sql("LOCK TABLES job_totals WRITE")
            yield
            conn.exec_driver_sql("UNLOCK TABLES")
        else:
            conn.exec_driver_sql("LOCK TABLE job_totals IN ACCESS EXCLUSIVE MODE")
            yield
            conn.rollback()


def test_scrape_of_a_locked_database_answers_with_database_down(
    scraper: Scraper, db: Database, backend: str
) -> None:
    before = time.time()
    good = scrape_text(scraper)
    read_at = value(good, "jobmon_last_successful_read_timestamp_seconds")
    assert before <= read_at <= time.time()
    with locked(db, backend, scraper.db):
        text = scrape_text(scraper, budget=0.5)
    assert value(text, "jobmon_database_up") == 0
    assert value(text, "jobmon_scrape_errors_total") == 1
    # The jobs of the last successful read are kept, and so is its time.
    assert job_samples(text) == job_samples(good) == expected(db)
    assert value(text, "jobmon_last_successful_read_timestamp_seconds") == read_at
    again = scrape_text(scraper)
    assert value(again, "jobmon_database_up") == 1
    assert value(again, "jobmon_last_successful_read_timestamp_seconds") >= read_at


def test_scrape_of_a_missing_database_counts_errors(tmp_path: Path) -> None:
    scraper = Scraper(Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"), "1.0")
    try:
        first, second = scrape_text(scraper), scrape_text(scraper, Format.OPENMETRICS)
    finally:
        scraper.close()
    assert value(first, "jobmon_database_up") == 0
    assert value(first, "jobmon_scrape_errors_total") == 1
    assert samples(second, openmetrics=True)[("jobmon_scrape_errors_total", frozenset())] == 2
    # Never read since start: no job series at all, and no time of a successful read.
    assert value(first, "jobmon_last_successful_read_timestamp_seconds") == 0
    assert {name for name, _ in samples(first)} == {
        "jobmon_database_up",
        "jobmon_scrape_duration_seconds",
        "jobmon_scrape_errors_total",
        "jobmon_last_successful_read_timestamp_seconds",
        "jobmon_build_info",
    }


def test_scrape_error_logs_never_show_the_password(caplog: pytest.LogCaptureFixture) -> None:
    scraper = Scraper(Database("postgresql://u:s3cretpw@127.0.0.1:1/x"), "1.0")
    try:
        with caplog.at_level(logging.DEBUG, logger="jobmon.exporter"):
            texts = [scrape_text(scraper) for _ in range(2)]
    finally:
        scraper.close()
    assert value(texts[1], "jobmon_scrape_errors_total") == 2
    assert "127.0.0.1:1" in caplog.text
    assert "s3cretpw" not in caplog.text + "".join(texts)


def test_concurrent_scrapes_agree(scraper: Scraper, db: Database) -> None:
    want = expected(db)
    results: list[dict[Any, float]] = []

    def one() -> None:
        results.append(job_samples(scrape_text(scraper, Format.OPENMETRICS), openmetrics=True))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 6


def test_reader_describe_masks_the_password() -> None:
    reader = Reader(Database("postgresql://u:s3cretpw@127.0.0.1:1/x"))
    message = reader.describe(RuntimeError("could not connect to u:s3cretpw@127.0.0.1"))
    assert "s3cretpw" not in message
    reader.db.dispose()
