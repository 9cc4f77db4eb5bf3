"""A test database that does not answer stops the suite at once with one message (conftest.py).

Each test runs pytest in a subprocess on a small selection, with a test database pointed at a
port on 127.0.0.1 that nothing listens on.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SELECTION = ["tests/runner/test_migrate.py", "-p", "no:cacheprovider"]


def closed_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago; nothing is left listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_pytest(env_overrides: dict[str, str], *args: str, ci: bool) -> tuple[int, str]:
    """Run pytest on ``SELECTION`` in a subprocess; its exit code and its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CI"))}
    env.update(env_overrides)
    if ci:
        env["CI"] = "true"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *SELECTION, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # a guard against a hang, not a timing assertion
    )
    return proc.returncode, proc.stdout + proc.stderr


def assert_stopped_before_any_test(output: str) -> None:
    """No test ran, none errored, and pytest printed no summary of outcomes or traceback."""
    assert "test_migrate.py" not in output, output
    assert "collected" not in output, output
    summary = r"(passed|failed|errors?|skipped|no tests ran)[^\n]* in [\d.]+s"
    assert re.search(summary, output) is None, output
    assert "ERROR " not in output, output
    assert "Traceback" not in output, output
    assert "INTERNALERROR" not in output, output


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_unreachable_postgresql_stops_the_run_with_one_message(workers: list[str]) -> None:
    port = closed_port()
    url = f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{port}/test"
    code, output = run_pytest({"JOBMON_TEST_PG": url}, *workers, ci=False)

    assert code == pytest.ExitCode.INTERRUPTED, output
    assert output.count("Test database unreachable") == 1, output
    assert "Test database unreachable: PostgreSQL. No test was run." in output
    assert f"PostgreSQL at postgresql+psycopg://postgres:***@127.0.0.1:{port}/test" in output
    assert "s3cret" not in output
    assert "Connection refused" in output
    assert "sudo apt-get install postgresql" in output
    assert "JOBMON_TEST_PG=" in output
    assert '"Fresh Debian machine"' in output
    assert "MariaDB at" not in output  # the suite's own MariaDB answers
    assert_stopped_before_any_test(output)


def test_in_ci_an_unreachable_database_fails_the_run() -> None:
    port = closed_port()
    code, output = run_pytest(
        {
            "JOBMON_TEST_PG": f"postgresql+psycopg://postgres@127.0.0.1:{port}/test",
            "JOBMON_TEST_MARIADB": f"mariadb+pymysql://root@127.0.0.1:{port}/test",
        },
        "-n",
        "2",
        ci=True,
    )

    assert code == pytest.ExitCode.TESTS_FAILED, output
    assert output.count("Test database unreachable") == 1, output
    assert "Test database unreachable in CI (CI=true): PostgreSQL and MariaDB." in output
    assert f"PostgreSQL at postgresql+psycopg://postgres@127.0.0.1:{port}/test" in output
    assert f"MariaDB at mariadb+pymysql://root@127.0.0.1:{port}/test" in output
    assert "sudo apt-get install mariadb-server" in output
    assert "JOBMON_TEST_MARIADB=" in output
    assert_stopped_before_any_test(output)
