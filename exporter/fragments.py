"""A job's lines of one family (its *fragment*), written as prometheus-client writes them.

Values are written as ``floatToGoString`` writes them (:func:`go_float`, an exact and faster
equivalent, checked against it by the test suite), labels sorted by name, values escaped
the same way. A family whose lines have the same labels for every job gets a template at
first use: a job's whole fragment is then one ``str.format`` call (one ``str.join`` for the
status state set), instead of a few formatting calls per line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from exporter.formats import PLAIN, Spelling
from exporter.snapshot import VALUES, JobSnapshot
from runner.core.metrics import Metric, Type
from runner.core.states import Status

Writer = Callable[[str, JobSnapshot], str]  # (the job's escaped name, the job) -> its lines
_SPECIAL = {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN"}


def escape(value: str) -> str:
    """A label value escaped as both formats require."""
    if "\\" not in value and "\n" not in value and '"' not in value:
        return value
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def go_float(value: float) -> str:
    """``value`` exactly as prometheus-client's ``floatToGoString`` writes it."""
    d = float(value)
    s = repr(d)
    dot = s.find(".")
    if dot > 6 and d > 0:  # Go switches to exponents sooner than Python
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    if dot < 0:  # infinities, NaN, or Python's own exponent form
        return _SPECIAL.get(s, s)
    return s


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


def _literal(text: str) -> str:
    """``text`` as literal text of a ``str.format`` template."""
    return text.replace("{", "{{").replace("}", "}}")


def _lines_template(name: str, others: tuple[str, ...], keys: Iterable[tuple[str, ...]]) -> str:
    """A fragment's template: ``{0}`` is the job's escaped name, ``{1}``... its values."""
    head = _literal(name + '{job_name="') + "{0}"
    lines = []
    for i, values in enumerate(keys, start=1):
        pairs = "".join(f',{k}="{escape(v)}"' for k, v in zip(others, values, strict=True))
        lines.append(head + _literal('"' + pairs + "} ") + "{" + str(i) + "}\n")
    return "".join(lines)


def _series_writer(metric: Metric) -> Writer:
    """Lines from :data:`~exporter.snapshot.VALUES`, ``job_name`` the first label."""
    name, others, series = metric.name, metric.labels[1:], VALUES[metric.name]
    templates: dict[tuple[tuple[str, ...], ...], str] = {}

    def write(n: str, job: JobSnapshot) -> str:
        values = series(job)
        keys = tuple([labels for labels, _ in values])
        template = templates.get(keys)
        if template is None:
            template = templates[keys] = _lines_template(name, others, keys)
        return template.format(
            n,
            *[
                f"{v}.0" if type(v) is int and 0 <= v < 1_000_000 else go_float(v)
                for _, v in values
            ],
        )

    return write


def _sorted_writer(metric: Metric) -> Writer:
    """Lines with a label sorting before ``job_name`` (and label values of each job's own)."""
    others = [k for k in metric.labels if k != "job_name"]
    series = VALUES[metric.name]

    def write(_n: str, job: JobSnapshot) -> str:
        return "".join(
            [
                line(metric.name, [("job_name", job.name), *zip(others, values, strict=True)], v)
                for values, v in series(job)
            ]
        )

    return write


def _status_writer(metric: Metric) -> Writer:
    """The state set: for each status, the text around the job's name (repeated per line)."""
    parts: dict[Status, list[str]] = {}
    for current in Status:
        text = "".join(
            f'{metric.name}{{job_name="\0",status="{s.value}"}} {1.0 if s is current else 0.0}\n'
            for s in Status
        )
        parts[current] = text.split("\0")
    return lambda n, job: n.join(parts[job.status])


def _histogram_template(name: str, bounds: tuple[str, ...]) -> str:
    """A histogram fragment's template: ``{0}`` the job's name, then the counts, the sum."""
    head = _literal(name + '_bucket{job_name="') + "{0}"
    lines = [
        head + _literal('",le="' + bound + '"} ') + "{" + str(i) + "}\n"
        for i, bound in enumerate(bounds, start=1)
    ]
    for part, i in (("count", len(bounds) + 1), ("sum", len(bounds) + 2)):
        lines.append(_literal(f'{name}_{part}{{job_name="') + '{0}"}} {' + str(i) + "}\n")
    return "".join(lines)


def _histogram_writer(metric: Metric) -> Writer:
    name = metric.name
    templates: dict[tuple[str, ...], str] = {}

    def write(n: str, job: JobSnapshot) -> str:
        bounds = tuple([bound for bound, _ in job.buckets])
        template = templates.get(bounds)
        if template is None:
            template = templates[bounds] = _histogram_template(name, bounds)
        counts = [number(count) for _, count in job.buckets]
        return template.format(n, *counts, counts[-1], number(job.duration_sum))

    return write


def writer(metric: Metric) -> Writer:
    """How a job's fragment of the job family ``metric`` is written."""
    if metric.type is Type.HISTOGRAM:
        return _histogram_writer(metric)
    if metric.name == "jobmon_job_status":
        return _status_writer(metric)
    if metric.labels[0] != "job_name":
        return _sorted_writer(metric)
    return _series_writer(metric)
