"""Database errors as people read them: one line, never the SQL statement or its parameters.

SQLAlchemy's text of a failed statement carries the SQL and the bound values (which may be
a user's data); drivers add context lines (PostgreSQL's ``LINE 1: SELECT ...``). jobmon
shows only the driver's first line, its error class, and for row refusals PostgreSQL's
detail line (which key or value was refused). Every message about a database error, in the
journal, the CLI, the runner's and the exporter's logs, is made here.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# What a lost connection, a timeout or a refused statement raises through SQLAlchemy.
DB_ERRORS = (OperationalError, DBAPIError)
MAX_LENGTH = 500


def driver_error(exc: BaseException) -> BaseException:
    """The driver's own exception behind a SQLAlchemy one."""
    return getattr(exc, "orig", None) or exc


def first_line(exc: BaseException) -> str:
    """The driver's message, first line only (PyMySQL keeps it in ``args[1]``)."""
    orig = driver_error(exc)
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    pymysql = type(orig).__module__.startswith("pymysql") and len(args) > 1
    text = str(args[1]) if pymysql else str(orig)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:MAX_LENGTH] if lines else ""


def describe(exc: BaseException) -> str:
    """``ErrorClass: first line``: what the CLI, the logs and the journal say."""
    name = type(driver_error(exc)).__name__
    line = first_line(exc)
    return f"{name}: {line}" if line else name


def refusal_message(exc: BaseException) -> str:
    """Why the database refused a row: the first line and PostgreSQL's detail, short."""
    orig = driver_error(exc)
    lines = [first_line(exc)] if first_line(exc) else []
    detail = getattr(getattr(orig, "diag", None), "message_detail", None)
    if detail and detail not in lines:
        lines.append(detail)
    return " — ".join(lines)[:MAX_LENGTH] or type(orig).__name__


# PostgreSQL: deadlock detected, serialization failure. MariaDB: deadlock, lock wait timeout.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})
CONFLICT_ERRNOS = frozenset({1213, 1205})


def is_conflict(exc: BaseException) -> bool:
    """Whether the database aborted a transaction that may succeed if run again."""
    orig = driver_error(exc)
    if getattr(orig, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    return type(orig).__module__.startswith("pymysql") and bool(args) and args[0] in CONFLICT_ERRNOS


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost connection or a conflict: the same work may succeed again."""
    if is_conflict(exc):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError)
