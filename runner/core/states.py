"""Run statuses, their labels and icons, and the legal transitions between them (SPEC §1)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The status of a run; a job's status is the status of its latest run."""

    EDITING = "editing"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    CANCELING = "canceling"
    CANCELED = "canceled"
    FINISHED = "finished"
    FINISHED_WITH_ERRORS = "finished_with_errors"
    SERVER_STOPPED = "server_stopped"

    @property
    def label(self) -> str:
        """The label shown to people."""
        return LABELS[self]

    @property
    def icon(self) -> str:
        """A one-character icon for terminals and dashboards."""
        return ICONS[self]


LABELS: dict[Status, str] = {
    Status.EDITING: "Being edited",
    Status.RUNNING: "Running",
    Status.PAUSING: "Pausing",
    Status.PAUSED: "Paused",
    Status.CANCELING: "Canceling",
    Status.CANCELED: "Canceled",
    Status.FINISHED: "Finished",
    Status.FINISHED_WITH_ERRORS: "Finished with errors",
    Status.SERVER_STOPPED: "Server stopped",
}

ICONS: dict[Status, str] = {
    Status.EDITING: "✎",
    Status.RUNNING: "▶",
    Status.PAUSING: "⏸",
    Status.PAUSED: "⏸",
    Status.CANCELING: "⊘",
    Status.CANCELED: "⊘",
    Status.FINISHED: "✔",
    Status.FINISHED_WITH_ERRORS: "✖",
    Status.SERVER_STOPPED: "⏻",
}

S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.EDITING: frozenset({S.RUNNING, S.CANCELED}),
    S.RUNNING: frozenset(
        {S.PAUSING, S.CANCELING, S.FINISHED, S.FINISHED_WITH_ERRORS, S.SERVER_STOPPED}
    ),
    S.PAUSING: frozenset(
        {S.PAUSED, S.CANCELING, S.FINISHED, S.FINISHED_WITH_ERRORS, S.SERVER_STOPPED}
    ),
    S.PAUSED: frozenset({S.RUNNING, S.CANCELED}),
    S.CANCELING: frozenset({S.CANCELED, S.SERVER_STOPPED, S.FINISHED, S.FINISHED_WITH_ERRORS}),
    S.SERVER_STOPPED: frozenset({S.RUNNING, S.CANCELED}),
    S.FINISHED: frozenset(),
    S.FINISHED_WITH_ERRORS: frozenset(),
    S.CANCELED: frozenset(),
}

# Statuses in which a runner owns the run and must keep its heartbeat fresh.
ACTIVE: frozenset[Status] = frozenset({S.RUNNING, S.PAUSING, S.CANCELING})
FINAL: frozenset[Status] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


def is_legal(current: Status, target: Status) -> bool:
    """Whether SPEC §1 allows moving a run from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


class Cause(StrEnum):
    """Who or what caused a transition."""

    SCHEDULER = "scheduler"
    USER = "user"
    RUNNER = "runner"
    REAPER = "reaper"


# Longest cause stored with a transition: ``user:`` and a console user's name.
CAUSE_LENGTH = 140


def caused_by(cause: Cause, actor: str | None = None) -> str:
    """The cause stored with a transition: ``user:alice`` for a named actor, else the cause."""
    if actor is None:
        return cause.value
    return f"{cause.value}:{actor}"[:CAUSE_LENGTH]


class Level(StrEnum):
    """Journal message levels."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class RejectReason(StrEnum):
    """Why a record was rejected: a small fixed set, so it can be a metric label."""

    PARSE = "parse"
    ENCODING = "encoding"
    TYPE = "type"
    REQUIRED = "required"
    LENGTH = "length"
    CHOICE = "choice"
    PATTERN = "pattern"
    CONSTRAINT = "constraint"
    DATABASE = "database"
    OTHER = "other"
