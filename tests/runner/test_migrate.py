from __future__ import annotations

import sqlalchemy as sa

from runner.core.storage.db import Database
from runner.core.storage.migrate import current_revision, head_revision, upgrade
from runner.core.storage.models import Base


def test_upgrade_creates_every_model_table(db: Database) -> None:
    assert current_revision(db) == head_revision()
    names = set(sa.inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= names


def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    assert upgrade(db) == head_revision()
    assert current_revision(db) == head_revision()


def test_migrations_match_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    # Import jobs may load tables into jobmon's own database (an earlier test's `orders`, in
    # this session's server database): they are data, not jobmon's schema.
    def jobmon_schema(name: str | None, kind: str, _parent: object) -> bool:
        return kind != "table" or name in Base.metadata.tables or name == "alembic_version"

    # An index made for one backend only (``ddl_if``) is compared on that backend only.
    def here(obj: object, _name: str | None, kind: str, reflected: bool, _other: object) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return reflected or kind != "index" or only is None or db.dialect in only.dialect

    with db.engine.connect() as conn:
        opts = {"include_name": jobmon_schema, "include_object": here}
        context = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_head_constant_matches_the_migration_scripts() -> None:
    from runner.core.storage.migrate import HEAD

    assert head_revision() == HEAD


def test_upgrade_numbers_the_runs_of_each_job_in_creation_order(db: Database) -> None:
    from alembic import command

    from runner.core.storage.migrate import _config

    with db.engine.begin() as conn:
        command.downgrade(_config(conn), "0001")
    jobs = sa.table("jobs", *(sa.column(c) for c in ("id", "name", "kind", "schedule")),
                    sa.column("status"), sa.column("defined"))  # fmt: skip
    runs = sa.table("runs", *(sa.column(c) for c in ("id", "job_id", "status", "attempt")),
                    *(sa.column(c) for c in ("created_at", "records", "rejects")))  # fmt: skip
    now = sa.func.current_timestamp()
    with db.engine.begin() as conn:
        for job_id, name in ((1, "a"), (2, "b")):
            conn.execute(jobs.insert().values(id=job_id, name=name, kind="python", schedule="",
                                              status="finished", defined=True))  # fmt: skip
        for run_id, job_id in ((10, 1), (11, 2), (12, 1), (13, 1), (14, 2)):
            conn.execute(runs.insert().values(id=run_id, job_id=job_id, status="finished",
                         attempt=1, created_at=now, records=0, rejects=0))  # fmt: skip
    assert upgrade(db) == head_revision()
    with db.engine.connect() as conn:
        numbers = conn.execute(sa.text("SELECT id, number FROM runs ORDER BY id")).all()
    assert [tuple(n) for n in numbers] == [(10, 1), (11, 1), (12, 2), (13, 3), (14, 2)]


def test_downgrade_from_named_causes_keeps_user(db: Database) -> None:
    from alembic import command

    from runner.core import control
    from runner.core.storage.migrate import _config
    from tests.runner.support import T0, add_jobs

    add_jobs(db, "job")
    control.request(db, "job", "start", T0, "a-user-with-a-long-name")
    with db.engine.begin() as conn:
        command.downgrade(_config(conn), "0003")
    with db.engine.connect() as conn:
        causes = conn.execute(sa.text("SELECT cause FROM transitions")).scalars().all()
    assert causes == ["user"]
    assert upgrade(db) == head_revision()


def test_revisions_downgrade_and_upgrade(db: Database) -> None:
    from alembic import command

    from runner.core import totals
    from runner.core.storage.migrate import _config
    from tests.runner.support import add_jobs, new_run

    def columns(table: str) -> set[str]:
        return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}

    ids = add_jobs(db, "job")
    new_run(db, ids["job"])
    with db.engine.begin() as conn:
        command.downgrade(_config(conn), "0004")
    db.engine.dispose()  # the inspector caches nothing, but the pool keeps SQLite's schema
    assert all("revision" not in columns(t) for t in ("jobs", "job_totals", "runs"))
    assert upgrade(db) == head_revision()
    db.engine.dispose()
    assert all("revision" in columns(t) for t in ("jobs", "job_totals", "runs"))
    with db.engine.connect() as conn:  # rows kept through both steps start again at 0
        counts = conn.execute(sa.text("SELECT revision FROM job_totals")).scalars().all()
    assert counts == [0]
    with db.write() as session:  # and every UPDATE through SQLAlchemy moves it:
        totals.bump(session, ids["job"], {"records_total": 3})
        written = 1  # a count of the row's writes (MariaDB), one more than the highest
        if db.dialect == "postgresql":  # (SQLite), or the id of the transaction that wrote it
            xact = sa.text("SELECT pg_current_xact_id()::text::bigint")
            written = session.execute(xact).scalar_one()
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT revision FROM job_totals")).scalar() == written
    tables = ("jobs", "job_totals", "runs")
    indexes = {i["name"] for t in tables for i in sa.inspect(db.engine).get_indexes(t)}
    revisions = {f"ix_{t}_revision" for t in tables}  # where rows are read by revision
    assert revisions & indexes == (revisions if db.dialect != "mariadb" else set())
