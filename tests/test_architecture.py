"""The shape docs/ARCHITECTURE.md promises: small modules, short functions, explained ignores.

The layers themselves (core below, executor and exporter side by side, CLI on top, no
cycles) are import-linter contracts in pyproject.toml, checked by ``lint-imports``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("runner", "exporter")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40
# Migration scripts are data: the schema of a revision, written out once and never changed.
DATA_MODULES = ("runner/core/storage/migrations/versions/",)
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?(?P<rest>.*)$")


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _is_data(path: Path) -> bool:
    return _name(path).startswith(DATA_MODULES)


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_module_is_at_most_300_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(path)} has {lines} lines"


@pytest.mark.parametrize("path", [p for p in _modules() if not _is_data(p)], ids=_name)
def test_functions_are_at_most_40_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == [], f"{_name(path)}: {long}"


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_every_type_ignore_names_its_error_and_says_why(path: Path) -> None:
    unexplained = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = IGNORE.search(line)
        if found and (not found.group(1) or not found.group("rest").strip().startswith("#")):
            unexplained.append(f"line {number}: {line.strip()}")
    assert unexplained == [], f"{_name(path)}: {unexplained}"
