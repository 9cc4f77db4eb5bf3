"""Fast exposition: a job's lines rendered again only when the job changed.

Each job's samples are rendered once per metric family (a *fragment*); a family's samples
are the concatenation of its fragments in job order (by name), under one HELP/TYPE header,
kept deflated in chunks (:class:`~exporter.chunks.FamilyText`): a changed job has its
fragments rendered again and spliced in where they differ, and only those chunks are
deflated again. A scrape reads only the jobs that changed (:mod:`exporter.reader`), and
nothing else is rendered; the first read gives every job in the order of their names, and
they are rendered one at a time as they come, each chunk deflated once full, so the first
render holds no more than a chunk of text per family. Under the default names, sample lines
are the same in classic text and OpenMetrics; only the headers and ``# EOF`` differ.

Lines are formatted exactly as prometheus-client formats them (``floatToGoString``, labels
sorted by name, the same escaping); the test suite checks byte equality with its output.
A scrape asking for a name escaping that changes names (see :mod:`exporter.formats`) is
rare: its samples are the kept ones with the names spelled again (:mod:`exporter.respell`),
and are not kept. Families that ``exporter.metrics`` excludes have no fragment, chunk or
header at all (:mod:`exporter.plan`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress

from exporter.chunks import CHUNK_BYTES, Builder
from exporter.deflate import Group, Piece
from exporter.formats import Escaping, Format, Spelling, spelling
from exporter.fragments import escape, line, writer
from exporter.headers import EOF, header
from exporter.plan import EVERYTHING, Plan
from exporter.reader import ID, NAME, Row
from exporter.respell import respell
from runner.core.metrics import Metric, Scope
from runner.core.states import Status


@dataclass(frozen=True)
class SelfValues:
    """The exporter's own metrics at one scrape."""

    database_up: bool
    duration: float
    errors: int
    version: str
    last_read: float = 0.0  # Unix time of the last successful read; 0 before the first

    @property
    def jobs_known(self) -> bool:
        """Whether a read has succeeded since start, so there are job series to serve."""
        return self.database_up or self.last_read > 0


class Renderer:
    """Keeps the job families ``plan`` serves between scrapes; not thread-safe (lock around
    it)."""

    def __init__(self, plan: Plan = EVERYTHING, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.plan = plan
        self.chunk_bytes = chunk_bytes
        self._writers = tuple(writer(m) for m in plan.job_metrics)
        self._families = [Builder().done() for _ in plan.job_metrics]
        self._order: list[int] = []  # the jobs' ids, in exposition order (by name)
        self._names: list[str] = []  # their names
        self._position: dict[int, int] = {}  # job id -> position in exposition order
        self._statuses = bytearray()  # each job's status (index in Status), by position
        self._counts = [0] * len(_STATUSES)

    def update(self, rows: Sequence[Row]) -> None:
        """Bring the cache to these rows: one per defined job, any order."""
        self.apply(rows, [row[ID] for row in rows])

    def apply(self, rows: Iterable[Row], present: Collection[int] | None = None) -> None:
        """Bring the cache to the defined jobs ``present`` (ids), with ``rows`` for the jobs
        that are new or may have changed; the others are kept as they are. Without
        ``present``, ``rows`` are every defined job's (best in the order of their names:
        then they are rendered one at a time, as they come)."""
        if present is None:
            if not self._position:
                return self._stream(iter(rows))
            rows = list(rows)
            present = [row[ID] for row in rows]
        changed = {row[ID]: row for row in rows}
        position, names = self._position, self._names
        same = len(present) == len(position) and all(
            key in position and names[position[key]] == row[NAME] for key, row in changed.items()
        )
        if same:
            self._splice(changed)
        else:
            self._layout(changed, present)
        return None

    def pieces(
        self, fmt: Format, own: SelfValues, escaping: Escaping = Escaping.UNDERSCORES
    ) -> list[Piece | Group]:
        """The whole exposition: job families from the last successful update, if any.

        While the database cannot be read, the job families of the last successful read are
        served unchanged: their series stay alive in Prometheus, so job alerts neither
        resolve nor fire again because of the outage (``jobmon_database_up`` reports it).
        """
        names = spelling(fmt, escaping)
        pieces: list[Piece | Group] = []
        job_family = 0
        for metric in self.plan.metrics:
            if metric.scope is not Scope.SELF and not own.jobs_known:
                continue
            pieces.append(header(metric, fmt, escaping))
            if metric.scope is Scope.JOB:
                group = self._families[job_family].group
                pieces.append(group if names.plain else Piece(respell(group.data, names)))
                job_family += 1
            elif metric.scope is Scope.AGGREGATE:
                pieces.append(Piece(self._status_counts(names)))
            else:
                pieces.append(Piece(_self_line(metric, own, names)))
        if fmt is Format.OPENMETRICS:
            pieces.append(EOF)
        return pieces

    def _fragments(self, row: Row) -> tuple[int, list[bytes]]:
        """A job's status (index) and its fragments, one per served job family."""
        snap = self.plan.snapshot(row)
        name = escape(snap.name)
        return _STATUS_INDEX[snap.status], [w(name, snap).encode() for w in self._writers]

    def _splice(self, changed: dict[int, Row]) -> None:
        """Put the changed jobs' fragments in place, where they differ."""
        rendered = {self._position[key]: self._fragments(row) for key, row in changed.items()}
        for f, family in enumerate(self._families):
            family.replace({p: fragments[f] for p, (_, fragments) in rendered.items()})
        for p, (status, _) in rendered.items():
            self._counts[self._statuses[p]] -= 1
            self._statuses[p] = status
            self._counts[status] += 1

    def _layout(self, changed: dict[int, Row], present: Collection[int]) -> None:
        """Order the jobs by name and build every family again, job after job: the fragments
        of the jobs not in ``changed`` are taken from the kept text, in their order."""
        old_position, old_names = self._position, self._names
        named = {
            key: changed[key][NAME] if key in changed else old_names[old_position[key]]
            for key in present
        }
        order = sorted(named, key=named.__getitem__)
        wanted = set(present)
        keep = [key in wanted and key not in changed for key in self._order]
        kept = [compress(family.fragments(), keep) for family in self._families]
        builders = [Builder(self.chunk_bytes) for _ in self._families]
        statuses = bytearray()
        for key in order:
            row = changed.get(key)
            if row is None:
                statuses.append(self._statuses[old_position[key]])
                for builder, old in zip(builders, kept, strict=True):
                    builder.add(next(old))
            else:
                status, fragments = self._fragments(row)
                statuses.append(status)
                for builder, fragment in zip(builders, fragments, strict=True):
                    builder.add(fragment)
        self._finish(builders, order, [named[key] for key in order], statuses)

    def _stream(self, rows: Iterator[Row]) -> None:
        """Build every family from nothing, rows given in the order of their names; rows out
        of that order are laid out as new jobs are."""
        builders = [Builder(self.chunk_bytes) for _ in self._families]
        order: list[int] = []
        names: list[str] = []
        statuses = bytearray()
        for row in rows:
            if names and row[NAME] < names[-1]:
                self._finish(builders, order, names, statuses)
                rest = {r[ID]: r for r in (row, *rows)}
                return self._layout(rest, [*order, *rest])
            status, fragments = self._fragments(row)
            for builder, fragment in zip(builders, fragments, strict=True):
                builder.add(fragment)
            order.append(row[ID])
            names.append(row[NAME])
            statuses.append(status)
        return self._finish(builders, order, names, statuses)

    def _finish(
        self, builders: list[Builder], order: list[int], names: list[str], statuses: bytearray
    ) -> None:
        self._families = [builder.done() for builder in builders]
        self._statuses = statuses
        self._counts = [statuses.count(i) for i in range(len(_STATUSES))]
        self._order, self._names = order, names
        self._position = {key: p for p, key in enumerate(order)}

    def _status_counts(self, names: Spelling) -> bytes:
        counts = self._counts
        lines = [
            line("jobmon_jobs", (("status", s.value),), counts[i], names)
            for i, s in enumerate(_STATUSES)
        ]
        return "".join(lines).encode()


_STATUSES = tuple(Status)
_STATUS_INDEX = {s: i for i, s in enumerate(_STATUSES)}


def _self_line(metric: Metric, own: SelfValues, names: Spelling) -> bytes:
    values: dict[str, tuple[tuple[tuple[str, str], ...], float]] = {
        "jobmon_database_up": ((), float(own.database_up)),
        "jobmon_scrape_duration_seconds": ((), own.duration),
        "jobmon_scrape_errors_total": ((), own.errors),
        "jobmon_last_successful_read_timestamp_seconds": ((), own.last_read),
        "jobmon_build_info": ((("version", own.version),), 1.0),
    }
    labels, value = values[metric.name]
    return line(metric.name, labels, value, names).encode()
