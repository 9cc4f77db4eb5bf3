"""The config file (SPEC §5): YAML with ``${ENV}`` interpolation, validated at load.

Every problem is reported at once, one line each, naming its key path
(``jobs[2].schedule: invalid cron expression "*/61 * * * *"``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError

from runner.core.config.chains import after_problems
from runner.core.config.databases import DatabaseConfig, NamedDatabase, NamedQuery
from runner.core.config.errors import ConfigError, join, key_path, problem
from runner.core.config.exports import ExportJob
from runner.core.config.fields import Strict
from runner.core.config.imports import ImportJob
from runner.core.config.jobs import PythonJob
from runner.core.config.secrets import url_passwords
from runner.core.config.settings import ExporterConfig, RunnerConfig, bucket_order_problems

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
JobConfig = Annotated[PythonJob | ImportJob | ExportJob, Field(discriminator="kind")]
JOB_KINDS = ("python", "import", "export")
_KINDS = ", ".join(JOB_KINDS)


class Config(Strict):
    """The whole config file."""

    database: DatabaseConfig = DatabaseConfig()
    exporter: ExporterConfig = ExporterConfig()
    runner: RunnerConfig = RunnerConfig()
    # Named connections and read-only queries that import and export jobs refer to.
    databases: dict[str, NamedDatabase] = Field(default_factory=dict)
    queries: dict[str, NamedQuery] = Field(default_factory=dict)
    jobs: list[JobConfig] = Field(default_factory=list)

    def job(self, name: str) -> JobConfig:
        """The job called ``name``; KeyError if there is none."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    def secrets(self) -> list[str]:
        """Every password in the config's database URLs, to mask wherever text is printed."""
        return url_passwords([self.database.url, *(d.url for d in self.databases.values())])


def load(path: str | Path) -> Config:
    """Read, interpolate and validate the config file at ``path``; raise :class:`ConfigError`."""
    source = str(path)
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_StrictLoader)
    except OSError as exc:
        raise ConfigError(source, [f"cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {_yaml_problem(exc)}"]) from None
    return parse(raw if raw is not None else {}, source)


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys (which would silently override)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong and where, without PyYAML's quote of the line: it may hold a password."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return str(exc)
    parts = [(exc.context, exc.context_mark), (exc.problem, exc.problem_mark)]
    return ": ".join(
        f"{text} (line {mark.line + 1}, column {mark.column + 1})" if mark else str(text)
        for text, mark in parts
        if text
    )


def parse(raw: Any, source: str = "<config>") -> Config:
    """Validate an already-read YAML tree."""
    problems: list[str] = []
    data = _interpolate(raw, "", problems)
    if not isinstance(data, dict):
        raise ConfigError(source, ["the top level must be a mapping"])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems += [_problem(err) for err in exc.errors(include_input=False)]
        raise ConfigError(source, problems) from None
    problems += _cross_checks(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def _interpolate(value: Any, path: str, problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, join(path, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, str):
        return _ENV.sub(lambda m: _env_value(m, path, problems), value)
    return value


def _env_value(match: re.Match[str], path: str, problems: list[str]) -> str:
    name, default = match.group(1), match.group(2)
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    problems.append(f"{path or '<root>'}: environment variable {name} is not set")
    return ""


def _problem(err: Any) -> str:
    if err["type"] == "union_tag_invalid":
        return f"{key_path(err['loc'], _kind_level)}: unknown job kind; expected one of {_KINDS}"
    if err["type"] == "union_tag_not_found":
        return f"{key_path(err['loc'], _kind_level)}: kind is required; one of {_KINDS}"
    return problem(err, _kind_level)


def _kind_level(loc: Sequence[Any], i: int) -> bool:
    """The discriminator's own level in an error location (``jobs.0.import``): no key."""
    return loc[0] == "jobs" and i == 2 and loc[i] in JOB_KINDS


def _cross_checks(config: Config) -> list[str]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, job in enumerate(config.jobs):
        if job.name in seen:
            problems.append(
                f'jobs[{i}].name: duplicate job name "{job.name}" (also jobs[{seen[job.name]}])'
            )
        seen.setdefault(job.name, i)
    problems += after_problems(config.jobs)
    problems += reference_problems(config.jobs, config.databases, config.queries)
    if config.runner.stale_after_seconds <= config.runner.heartbeat_seconds:
        problems.append("runner.stale_after_seconds: must be greater than heartbeat_seconds")
    problems += bucket_order_problems(config.exporter.metrics)
    return problems


def reference_problems(
    jobs: Sequence[Any], databases: Mapping[str, NamedDatabase], queries: Mapping[str, NamedQuery]
) -> list[str]:
    """``jobs[i].…: unknown database "x"`` lines for references that lead nowhere."""
    problems: list[str] = []
    for name, query in queries.items():
        if query.database is not None and query.database not in databases:
            problems.append(f'queries.{name}.database: unknown database "{query.database}"')
    for i, job in enumerate(jobs):
        refs: list[tuple[str, str | None, Mapping[str, Any]]] = []
        if isinstance(job, ImportJob):
            refs.append(("target.database", job.target.database, databases))
        elif isinstance(job, ExportJob):
            refs.append(("source.database", job.source.database, databases))
            refs.append(("source.query", job.source.query, queries))
        for path, ref, known in refs:
            if ref is not None and ref not in known:
                what = "query" if path.endswith("query") else "database"
                problems.append(f'jobs[{i}].{path}: unknown {what} "{ref}"')
    return problems
