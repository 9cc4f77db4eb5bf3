"""jobmon's config: the models of the file (SPEC §5), loading, and errors naming key paths."""

from runner.core.config.csvformat import CsvDestination, CsvFormat, CsvSource
from runner.core.config.databases import (
    DEFAULT_DATABASE_URL,
    DatabaseConfig,
    NamedDatabase,
    NamedQuery,
)
from runner.core.config.errors import ConfigError
from runner.core.config.exports import Condition, ExportJob, ExportSource, Order
from runner.core.config.fields import Strict
from runner.core.config.file import JOB_KINDS, Config, JobConfig, load, parse
from runner.core.config.imports import FALSE_VALUES, TRUE_VALUES, Column, ImportJob, TableTarget
from runner.core.config.jobs import JobBase, PythonJob
from runner.core.config.settings import ExporterConfig, RetentionConfig, RunnerConfig

__all__ = [
    "DEFAULT_DATABASE_URL",
    "FALSE_VALUES",
    "JOB_KINDS",
    "TRUE_VALUES",
    "Column",
    "Condition",
    "Config",
    "ConfigError",
    "CsvDestination",
    "CsvFormat",
    "CsvSource",
    "DatabaseConfig",
    "ExportJob",
    "ExportSource",
    "ExporterConfig",
    "ImportJob",
    "JobBase",
    "JobConfig",
    "NamedDatabase",
    "NamedQuery",
    "Order",
    "PythonJob",
    "RetentionConfig",
    "RunnerConfig",
    "Strict",
    "TableTarget",
    "load",
    "parse",
]
