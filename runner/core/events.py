"""What a run writes while it works: journal lines, rejects, progress and checkpoints.

Each write bumps the job's totals in the same transaction. Writes made on behalf of a runner
are fenced by its claim (:class:`runner.core.fencing.Fence`), so a runner that lost the run can
no longer change it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from runner.core import locks, totals
from runner.core.fencing import Fence
from runner.core.states import Level, RejectReason
from runner.core.storage.models import JournalEntry, Reject, Run, journal_column, rejects_column

MAX_MESSAGE = 4000
# A rejected record's bytes are cut here: ``rejects.raw`` is a BLOB on MariaDB (64 KiB).
MAX_RAW_BYTES = 64_000
# A rejected record's text is cut here: ``rejects.record`` is a TEXT on MariaDB (64 KiB), and a
# character takes up to four bytes.
MAX_RECORD_CHARS = 16_000


@dataclass(frozen=True)
class RejectRecord:
    """A rejected source record: where it was, what it said, and why it was refused.

    ``raw`` is the record's bytes as read from the source, line break included (None when
    the job has no source file): ``jobmon rejects --format csv`` writes them back as they were.
    """

    line: int
    record: str
    field: str | None
    reason: RejectReason
    message: str
    raw: bytes | None = None


def journal(
    session: Session,
    run_id: int,
    job_id: int,
    level: Level,
    message: str,
    now: datetime,
    fence: Fence | None = None,
) -> None:
    """Append a message to the run's journal (with ``fence``: only while the claim holds)."""
    locks.job_turn(session, job_id)
    if fence is not None:
        held = select(Run.id).where(*fence.held()).with_for_update(key_share=True)
        if session.scalar(held) is None:
            raise fence.lost()
    session.add(
        JournalEntry(run_id=run_id, at=now, level=level.value, message=message[:MAX_MESSAGE])
    )
    totals.bump(session, job_id, {journal_column(level): 1})


def add_rejects(
    session: Session, run_id: int, job_id: int, rejects: Sequence[RejectRecord]
) -> None:
    """Store rejected records and count them per reason."""
    if not rejects:
        return
    locks.job_turn(session, job_id)
    session.execute(
        insert(Reject),
        [
            {
                "run_id": run_id,
                "line": r.line,
                "record": r.record[:MAX_RECORD_CHARS],
                "raw": None if r.raw is None else r.raw[:MAX_RAW_BYTES],
                "field": r.field,
                "reason": r.reason.value,
                "message": r.message[:MAX_MESSAGE],
            }
            for r in rejects
        ],
    )
    per_reason = Counter(rejects_column(r.reason) for r in rejects)
    totals.bump(session, job_id, dict(per_reason))
    session.execute(update(Run).where(Run.id == run_id).values(rejects=Run.rejects + len(rejects)))


def save_progress(
    session: Session,
    fence: Fence,
    job_id: int,
    now: datetime,
    *,
    records: int = 0,
    state: Any = None,
    save_state: bool = False,
) -> None:
    """Heartbeat, add ``records`` and (with ``save_state``) store the checkpoint, fenced."""
    locks.job_turn(session, job_id)
    values: dict[str, Any] = {"heartbeat_at": now}
    if records:
        values["records"] = Run.records + records
    if save_state:
        values["checkpoint"] = json.dumps(state)
    result = session.execute(update(Run).where(*fence.held()).values(values))
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        raise fence.lost()
    totals.bump(session, job_id, {"records_total": records})


def load_checkpoint(run: Run) -> Any:
    """The state last saved by ``checkpoint()``, or None."""
    return None if run.checkpoint is None else json.loads(run.checkpoint)
