"""One runner at a time on SQLite: an exclusive lock file next to the database file.

The operating system releases the lock when the process dies, even by SIGKILL, so a crashed
runner never blocks the next one.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from runner.core.storage.db import Database


class RunnerLockError(RuntimeError):
    """Another runner already uses this SQLite database."""


def acquire(db: Database) -> IO[bytes] | None:
    """Take the SQLite runner lock; None for server databases, which allow many runners."""
    if not db.is_sqlite or not db.url.database or db.url.database == ":memory:":
        return None
    path = Path(db.url.database).resolve().with_name(Path(db.url.database).name + ".runner-lock")
    handle = path.open("wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RunnerLockError(
            f"another jobmon runner is already running on {db.url.database}; SQLite allows one "
            "runner at a time (use PostgreSQL or MariaDB to run several)"
        ) from None
    return handle
