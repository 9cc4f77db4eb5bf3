"""Fast exposition: per-job fragments re-rendered only when the job's row changed.

Each job's samples are rendered once per metric family (a *fragment*) and kept with the row
they came from; a scrape compares every row with the cached one (a tuple comparison) and
renders again only the jobs whose row differs. A family's samples are the concatenation of
its fragments in job order, under one HELP/TYPE header, cut into chunks of about
:data:`CHUNK_BYTES` that are kept as :class:`~exporter.deflate.Piece` objects: a chunk is
rebuilt (and compressed again) only when one of its fragments changed. Under the default
names, sample lines are the same in classic text and OpenMetrics; only the headers and
``# EOF`` differ.

Lines are formatted exactly as prometheus-client formats them (``floatToGoString``, labels
sorted by name, the same escaping); the test suite checks byte equality with its output.
A scrape asking for a name escaping that changes names (see :mod:`exporter.formats`) is
rare: its samples are rendered from the kept snapshots, spelled for it, and not kept.
Families that ``exporter.metrics`` excludes have no fragment, chunk or header at all
(:mod:`exporter.plan`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from exporter.deflate import Piece
from exporter.formats import PLAIN, Escaping, Format, Spelling, spelling
from exporter.headers import EOF, header
from exporter.plan import EVERYTHING, Plan
from exporter.reader import ID, NAME, Row
from exporter.snapshot import VALUES, JobSnapshot, go_float
from runner.core.metrics import JOB_METRICS, Metric, Scope, Type
from runner.core.states import Status

CHUNK_BYTES = 64 * 1024
# Job metrics with a label that sorts before job_name (``after`` of jobmon_job_info): their
# lines are written by :func:`line`, which sorts the labels. That is slower, but it is one
# line per job kept as a fragment like the others: written again only when the job changes.
_LABEL_BEFORE_JOB_NAME = frozenset(m.name for m in JOB_METRICS if m.labels[0] != "job_name")


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


@lru_cache(maxsize=65536)
def escape(value: str) -> str:
    """A label value escaped as both formats require."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def number(value: float) -> str:
    """A sample value as prometheus-client writes it (with a shortcut for small counts)."""
    if type(value) is int and 0 <= value < 1_000_000:
        return f"{value}.0"  # what floatToGoString gives, without the float round trip
    return go_float(value)


def line(
    name: str, labels: Iterable[tuple[str, str]], value: float, names: Spelling = PLAIN
) -> str:
    """One sample line, labels sorted by name as prometheus-client writes them."""
    spelled = names.labels
    pairs = ",".join(f'{spelled[k]}="{escape(v)}"' for k, v in sorted(labels))
    name = names.samples[name]
    return f"{name}{{{pairs}}} {number(value)}\n" if pairs else f"{name} {number(value)}\n"


def _histogram(name: str, head: str, job: JobSnapshot, names: Spelling) -> bytes:
    bucket, le = f"{names.samples[name + '_bucket']}{head}", names.labels["le"]
    lines = [f'{bucket},{le}="{bound}"}} {number(n)}\n' for bound, n in job.buckets]
    lines.append(f"{names.samples[name + '_count']}{head}}} {number(job.buckets[-1][1])}\n")
    lines.append(f"{names.samples[name + '_sum']}{head}}} {number(job.duration_sum)}\n")
    return "".join(lines).encode()


def fragment(metric: Metric, job: JobSnapshot, names: Spelling = PLAIN) -> bytes:
    """The sample lines of one job for one metric, names spelled as ``names`` says.

    Label names are listed sorted in :mod:`runner.core.metrics`, mostly ``job_name`` first,
    so lines are written in that order without sorting each time.
    """
    name = metric.name
    if name in _LABEL_BEFORE_JOB_NAME:
        return _sorted_fragment(metric, job, names)
    head = f'{{{names.labels["job_name"]}="{escape(job.name)}"'
    if metric.type is Type.HISTOGRAM:
        return _histogram(name, head, job, names)
    start, more = names.samples[name] + head, names.others[name]
    return "".join(
        [
            f"{start}{_pairs(more, values)}}} {number(value)}\n"
            for values, value in VALUES[name](job)
        ]
    ).encode()


def _sorted_fragment(metric: Metric, job: JobSnapshot, names: Spelling) -> bytes:
    others = [k for k in metric.labels if k != "job_name"]
    lines = [
        line(metric.name, [("job_name", job.name), *zip(others, values, strict=True)], v, names)
        for values, v in VALUES[metric.name](job)
    ]
    return "".join(lines).encode()


def inputs(metric: Metric, job: JobSnapshot) -> object:
    """What the fragment of ``metric`` depends on, besides the job's name."""
    if metric.type is Type.HISTOGRAM:
        return job.buckets, job.duration_sum
    return VALUES[metric.name](job)


@lru_cache(maxsize=65536)
def _pairs(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return "".join([f',{k}="{escape(v)}"' for k, v in zip(names, values, strict=True)])


class _Job:
    """A job's last row, its snapshot and its fragments (one per served job metric)."""

    __slots__ = ("parts", "row", "snap")
    parts: tuple[bytes, ...]

    def __init__(self, row: Row, previous: _Job | None, plan: Plan) -> None:
        self.row = row
        self.snap = plan.snapshot(row)
        metrics = plan.job_metrics
        if previous is None or previous.snap.name != self.snap.name:
            self.parts = tuple(fragment(m, self.snap) for m in metrics)
            return
        # A running job changes a few series at a time: keep the fragments (the very same
        # objects, which tells the renderer their chunks are unchanged) of the others.
        self.parts = tuple(
            old if inputs(m, previous.snap) == inputs(m, self.snap) else fragment(m, self.snap)
            for m, old in zip(metrics, previous.parts, strict=True)
        )


class Renderer:
    """Keeps the fragments and chunks of the families ``plan`` serves between scrapes; not
    thread-safe (lock around it)."""

    def __init__(self, plan: Plan = EVERYTHING) -> None:
        self.plan = plan
        self._index = {m.name: f for f, m in enumerate(plan.job_metrics)}
        self._jobs: dict[int, _Job] = {}
        self._ordered: list[_Job] = []  # in exposition order (by name)
        self._position: dict[int, int] = {}
        self._counts: Counter[Status] = Counter()
        self._sizes: list[int] = [1] * len(self._index)
        self._chunks: list[list[Piece]] = [[] for _ in self._index]

    def update(self, rows: Sequence[Row]) -> None:
        """Bring the cache to these rows (one per defined job, any order)."""
        jobs: dict[int, _Job] = {}
        changed: list[tuple[_Job, _Job]] = []
        same_jobs = len(rows) == len(self._jobs)
        for row in rows:
            key = row[ID]
            old = self._jobs.get(key)
            if old is not None and old.row == row:
                jobs[key] = old
                continue
            job = jobs[key] = _Job(row, old, self.plan)
            if old is None or old.row[NAME] != row[NAME]:
                same_jobs = False  # a new, removed or renamed job: the order changes
            else:
                changed.append((old, job))
        self._jobs = jobs
        if same_jobs:
            self._apply(changed)
        else:
            self._layout()

    def snapshots(self) -> list[JobSnapshot]:
        """The jobs of the last update, in exposition order."""
        return [job.snap for job in self._ordered]

    def pieces(
        self, fmt: Format, own: SelfValues, escaping: Escaping = Escaping.UNDERSCORES
    ) -> list[Piece]:
        """The whole exposition: job families from the last successful update, if any.

        While the database cannot be read, the job families of the last successful read are
        served unchanged: their series stay alive in Prometheus, so job alerts neither
        resolve nor fire again because of the outage (``jobmon_database_up`` reports it).
        """
        names = spelling(fmt, escaping)
        pieces: list[Piece] = []
        for metric in self.plan.metrics:
            if metric.scope is not Scope.SELF and not own.jobs_known:
                continue
            pieces.append(header(metric, fmt, escaping))
            if metric.scope is Scope.JOB:
                pieces += self._job_pieces(metric, names)
            elif metric.scope is Scope.AGGREGATE:
                pieces.append(Piece(self._status_counts(names)))
            else:
                pieces.append(Piece(_self_line(metric, own, names)))
        if fmt is Format.OPENMETRICS:
            pieces.append(EOF)
        return pieces

    def _job_pieces(self, metric: Metric, names: Spelling) -> list[Piece]:
        """The kept chunks of a job metric; rendered again when names are spelled otherwise."""
        if names.plain:
            return self._chunks[self._index[metric.name]]
        return [Piece(b"".join([fragment(metric, job.snap, names) for job in self._ordered]))]

    def _apply(self, changed: list[tuple[_Job, _Job]]) -> None:
        """Put changed jobs in place and rebuild only the chunks holding a changed fragment."""
        dirty: list[set[int]] = [set() for _ in self._index]
        for old, new in changed:
            position = self._position[new.row[ID]]
            self._ordered[position] = new
            self._counts[old.snap.status] -= 1
            self._counts[new.snap.status] += 1
            for f, (a, b) in enumerate(zip(old.parts, new.parts, strict=True)):
                if a is not b:
                    dirty[f].add(position // self._sizes[f])
        for f, chunks in enumerate(dirty):
            for k in chunks:
                self._chunks[f][k] = self._chunk(f, k)

    def _layout(self) -> None:
        """Order the jobs by name, size the chunks and build them all."""
        self._ordered = sorted(self._jobs.values(), key=lambda job: job.row[NAME])
        self._position = {job.row[ID]: p for p, job in enumerate(self._ordered)}
        self._counts = Counter(job.snap.status for job in self._ordered)
        count = max(1, len(self._ordered))
        self._sizes = []
        for f in range(len(self._index)):
            average = sum(len(job.parts[f]) for job in self._ordered) / count
            self._sizes.append(max(1, int(CHUNK_BYTES // max(1.0, average))))
        self._chunks = [
            [self._chunk(f, k) for k in range(-(-len(self._ordered) // self._sizes[f]))]
            for f in range(len(self._index))
        ]

    def _chunk(self, f: int, k: int) -> Piece:
        size = self._sizes[f]
        return Piece(b"".join([job.parts[f] for job in self._ordered[k * size : (k + 1) * size]]))

    def _status_counts(self, names: Spelling) -> bytes:
        counts = self._counts
        lines = [line("jobmon_jobs", (("status", s.value),), counts[s], names) for s in Status]
        return "".join(lines).encode()


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
