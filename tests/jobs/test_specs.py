"""Import and export config: every mistake is reported with its key path."""

from __future__ import annotations

from typing import Any

import pytest

from runner.core import config
from runner.core.config import ConfigError, ExportJob, ImportJob


def import_job(**changes: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "name": "imp",
        "kind": "import",
        "source": {"path": "data/in.csv"},
        "target": {"table": "t"},
        "columns": [{"name": "id", "type": "integer"}],
    }
    job.update(changes)
    return job


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.parse(raw)
    return caught.value.problems


def test_import_and_export_jobs_load() -> None:
    loaded = config.parse(
        {
            "databases": {"wh": {"url": "postgresql://u:p@h/db"}},
            "queries": {"active": {"sql": "SELECT 1", "database": "wh"}},
            "jobs": [
                import_job(
                    target={"table": "t", "database": "wh", "mode": "upsert", "key": ["id"]}
                ),
                {
                    "name": "exp",
                    "kind": "export",
                    "source": {"query": "active"},
                    "destination": {"path": "data/out.csv", "escape_formulas": True},
                },
            ],
        }
    )
    assert isinstance(loaded.jobs[0], ImportJob)
    assert isinstance(loaded.jobs[1], ExportJob)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"columns": [{"name": "a", "type": "integer", "max_length": 3}]},
            "jobs[0].columns[0]: max_length applies only to text and pattern columns",
        ),
        (
            {"columns": [{"name": "a", "type": "enum"}]},
            "jobs[0].columns[0]: an enum column needs choices",
        ),
        (
            {"columns": [{"name": "a", "type": "integer", "format": "%Y", "max_length": 3}]},
            "jobs[0].columns[0]: max_length applies only to text and pattern columns",
        ),
        (
            {"columns": [{"name": "a", "type": "boolean", "format": "%Y"}]},
            "jobs[0].columns[0]: format applies only to date and datetime columns",
        ),
        (
            {"columns": [{"name": "a", "type": "money"}]},
            "jobs[0].columns[0].type: Input should be 'integer', 'decimal', 'float', 'text',"
            " 'boolean', 'date', 'datetime', 'enum' or 'pattern'",
        ),
        (
            {"columns": [{"name": "a", "type": "pattern"}]},
            "jobs[0].columns[0]: a pattern column needs a pattern",
        ),
        (
            {"columns": [{"name": "a", "type": "decimal", "precision": 3, "scale": 5}]},
            "jobs[0].columns[0]: scale cannot be greater than precision",
        ),
        (
            {"columns": [{"name": "a", "type": "enum", "required": True, "default": "x"}]},
            "jobs[0].columns[0]: an enum column needs choices",
        ),
        (
            {"columns": [{"name": "a", "type": "pattern", "pattern": "(["}]},
            "jobs[0].columns[0].pattern: not a valid regular expression",
        ),
        (
            {"columns": [{"name": "a", "type": "integer", "default": "x"}]},
            "jobs[0].columns[0]: default 'x' is invalid: 'x' is not an integer",
        ),
        (
            {"columns": [{"name": "a", "required": True, "default": "x"}]},
            "jobs[0].columns[0]: a required column cannot have a default",
        ),
        ({"columns": [{"name": "a", "typo": 1}]}, "jobs[0].columns[0].typo: unknown key"),
        (
            {"source": {"path": "x", "encoding": "utf-16"}},
            "jobs[0].source.encoding: encoding 'utf-16' is not ASCII-compatible",
        ),
        (
            {"source": {"path": "x", "encoding": "klingon"}},
            "jobs[0].source.encoding: unknown encoding 'klingon'",
        ),
        (
            {"source": {"path": "x", "delimiter": ";;"}},
            "jobs[0].source.delimiter: String should have at most 1 character",
        ),
        (
            {"target": {"table": "t", "mode": "upsert"}},
            "jobs[0].target: mode upsert needs key columns",
        ),
        (
            {"target": {"table": "t", "key": ["nope"]}},
            "jobs[0]: key column 'nope' is not among the columns",
        ),
        ({"target": {"table": 't"; drop'}}, "jobs[0].target.table: String should match pattern"),
        (
            {"target": {"table": "t", "database": "missing"}},
            'jobs[0].target.database: unknown database "missing"',
        ),
        (
            {"source": {"path": "x", "header": False}, "columns": [{"name": "a", "source": "col"}]},
            "jobs[0]: column 'a': without a header row, source must be a position",
        ),
    ],
)
def test_import_config_errors_name_their_path(changes: dict[str, Any], expected: str) -> None:
    found = problems({"jobs": [import_job(**changes)]})
    assert any(p.startswith(expected) for p in found), found


def export_job(source: dict[str, Any]) -> dict[str, Any]:
    return {"name": "e", "kind": "export", "source": source, "destination": {"path": "d.csv"}}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"table": "t", "query": "q"}, "jobs[0].source: give either table or query"),
        (
            {"table": "t", "where": {"column": "a", "op": "in", "value": 1}},
            "jobs[0].source.where[0]: in needs a non-empty list",
        ),
        (
            {"table": "t", "where": {"column": "a", "op": "like", "value": "x"}},
            "jobs[0].source.where[0].op: Input should be",
        ),
        (
            {"table": "t", "where": {"column": "a", "op": "is null", "value": 1}},
            "jobs[0].source.where[0]: is null takes no value",
        ),
        (
            {"query": "q", "columns": ["a"]},
            "jobs[0].source: columns applies to a table, not to a query",
        ),
        ({"query": "nope"}, 'jobs[0].source.query: unknown query "nope"'),
    ],
)
def test_export_config_errors_name_their_path(source: dict[str, Any], expected: str) -> None:
    found = problems({"queries": {"q": {"sql": "select 1"}}, "jobs": [export_job(source)]})
    assert any(p.startswith(expected) for p in found), found


def test_named_query_must_be_read_only() -> None:
    found = problems({"queries": {"q": {"sql": "DELETE FROM t"}}})
    assert found == [
        "queries.q.sql: must be a read-only query starting with SELECT, WITH or VALUES"
    ]


def test_export_order_by_accepts_names_and_mappings() -> None:
    loaded = config.parse(
        {
            "jobs": [
                export_job({"table": "t", "order_by": ["a", {"column": "b", "descending": True}]})
            ]
        }
    )
    job = loaded.jobs[0]
    assert isinstance(job, ExportJob)
    assert [(o.column, o.descending) for o in job.source.order_by] == [("a", False), ("b", True)]
