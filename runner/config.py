"""The config file (SPEC §5): YAML with ``${ENV}`` interpolation, validated at load.

Every problem is reported at once, one line each, naming its key path
(``jobs[2].schedule: invalid cron expression "*/61 * * * *"``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from runner.config_base import JobBase, Strict, check_database_url
from runner.jobs.specs import ExportJob, ImportJob, NamedDatabase, NamedQuery, reference_problems

DEFAULT_DATABASE_URL = "sqlite:///jobmon.db"
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """An invalid config: ``problems`` holds one ``path: message`` line per error."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class DatabaseConfig(Strict):
    """Where jobmon keeps runs, journal, rejects and totals (a SQLAlchemy URL)."""

    url: str = DEFAULT_DATABASE_URL

    @field_validator("url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        return check_database_url(value)


class ExporterConfig(Strict):
    """The Prometheus exporter's listen address and exporter-toolkit web config."""

    listen_address: str = "127.0.0.1:9736"
    web_config_file: str | None = None
    metrics_path: str = "/metrics"


class RetentionConfig(Strict):
    """How long finished runs, their journal and rejects are kept (totals are kept forever)."""

    days: float = Field(default=30, gt=0)
    interval_seconds: float = Field(default=3600, gt=0)


class RunnerConfig(Strict):
    """Heartbeats, claim polling, concurrency, shutdown and retention."""

    id: str | None = None
    heartbeat_seconds: float = Field(default=5, gt=0)
    stale_after_seconds: float = Field(default=30, gt=0)
    poll_seconds: float = Field(default=1, gt=0)
    concurrency: int = Field(default=4, ge=1)
    shutdown_grace_seconds: float = Field(default=30, ge=0)
    retention: RetentionConfig = RetentionConfig()
    data_dirs: list[str] = Field(default_factory=lambda: ["data"])


class PythonJob(JobBase):
    """A user's own batch function, watched through its context (checkpoints, journal...)."""

    kind: Literal["python"]
    callable: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    params: dict[str, Any] = Field(default_factory=dict)


JobConfig = Annotated[PythonJob | ImportJob | ExportJob, Field(discriminator="kind")]
JOB_KINDS = ("python", "import", "export")


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
        problems += [_format_error(err) for err in exc.errors(include_input=False)]
        raise ConfigError(source, problems) from None
    problems += _cross_checks(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def _interpolate(value: Any, path: str, problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, _join(path, k), problems) for k, v in value.items()}
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


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _format_error(err: Any) -> str:
    path = ""
    loc = list(err["loc"])
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif i > 0 and isinstance(loc[i - 1], int) and loc[:1] == ["jobs"] and part in JOB_KINDS:
            continue  # the discriminator's own level: not a key in the file
        else:
            path = _join(path, part)
    message = str(err["msg"])
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "union_tag_invalid":
        message = f"unknown job kind; expected one of {', '.join(JOB_KINDS)}"
    elif err["type"] == "union_tag_not_found":
        message = f"kind is required; one of {', '.join(JOB_KINDS)}"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{path or '<root>'}: {message}"


def _cross_checks(config: Config) -> list[str]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, job in enumerate(config.jobs):
        if job.name in seen:
            problems.append(
                f'jobs[{i}].name: duplicate job name "{job.name}" (also jobs[{seen[job.name]}])'
            )
        seen.setdefault(job.name, i)
    problems += reference_problems(config.jobs, config.databases, config.queries)
    if config.runner.stale_after_seconds <= config.runner.heartbeat_seconds:
        problems.append("runner.stale_after_seconds: must be greater than heartbeat_seconds")
    return problems
