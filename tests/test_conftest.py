"""How conftest.py orders the suite for ``make test``: under ``-n 3 --dist worksteal`` each
minutes-long proof is the first test of a worker of its own, so they all start at once.

pytest runs in a subprocess on the long tests' modules and a module of quick ones, with a plugin
that records which worker takes each test and skips it before any fixture runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The modules of the long tests (one each), and one of many quick ones.
MODULES = (
    "tests/deploy/test_image.py",
    "tests/e2e/test_chaining.py",
    "tests/e2e/test_monitoring_outage.py",
    "tests/test_architecture.py",
)
RECORDER = """
import os
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    with open(os.environ["ORDER_FILE"], "a", encoding="utf-8") as out:
        kind = "long" if item.get_closest_marker("long") else "quick"
        out.write(f"{os.environ['PYTEST_XDIST_WORKER']} {kind} {item.nodeid}\\n")
    pytest.skip("order recorded")
"""


def test_each_long_test_starts_a_worker_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "order_recorder.py").write_text(RECORDER, encoding="utf-8")
    order = tmp_path / "order.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CI"))}
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    env |= {"PYTHONPATH": path, "ORDER_FILE": str(order)}
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "3", "--dist", "worksteal", *MODULES,
         "-p", "order_recorder", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    first: dict[str, str] = {}
    long: set[str] = set()
    quick: set[str] = set()
    for line in order.read_text(encoding="utf-8").splitlines():
        worker, kind, test = line.split(" ", 2)
        first.setdefault(worker, test)
        (long if kind == "long" else quick).add(test)
    assert len(long) == 3 and len(quick) > 100, "three long tests among many quick ones"
    assert set(first.values()) == long
