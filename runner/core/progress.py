"""How far a run has got, for someone watching it: its counts, how much of its source it has
read when its checkpoint says, and the journal lines written since the last look."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.core.states import Status
from runner.core.storage.models import JournalEntry, Run


@dataclass(frozen=True)
class RunProgress:
    """A run as last committed: status, counts, and its position in its source if known."""

    number: int
    status: Status
    records: int
    rejects: int
    # Bytes of the source read and the source's size: an import checkpoints both (``offset``
    # and ``source.size``). None for runs whose size is not known (python jobs, exports).
    done: int | None
    total: int | None


def run_progress(session: Session, run_id: int) -> RunProgress:
    """The run's progress as committed at its last checkpoint."""
    run = session.get(Run, run_id, populate_existing=True)
    if run is None:
        raise LookupError(f"run {run_id} does not exist")
    position = source_position(run.checkpoint)
    return RunProgress(
        number=run.number,
        status=Status(run.status),
        records=run.records,
        rejects=run.rejects,
        done=position[0] if position else None,
        total=position[1] if position else None,
    )


def source_position(checkpoint: str | None) -> tuple[int, int] | None:
    """``(bytes read, source size)`` from a checkpoint that records them, else None."""
    try:
        state: Any = json.loads(checkpoint) if checkpoint else None
    except ValueError:
        return None
    if not isinstance(state, dict) or not isinstance(state.get("source"), dict):
        return None
    offset, size = state.get("offset"), state["source"].get("size")
    if not isinstance(offset, int) or not isinstance(size, int) or size <= 0:
        return None
    return min(offset, size), size


def journal_after(session: Session, run_id: int, after_id: int) -> list[JournalEntry]:
    """The run's journal lines written after line ``after_id``, oldest first.

    A run's lines are written under its job's turn (:mod:`runner.core.locks`), so they commit
    in the order of their ids and a line never appears behind one already seen.
    """
    query = (
        select(JournalEntry)
        .where(JournalEntry.run_id == run_id, JournalEntry.id > after_id)
        .order_by(JournalEntry.id)
    )
    return list(session.scalars(query))
