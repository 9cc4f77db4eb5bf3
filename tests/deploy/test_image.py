"""scripts/image-test, run as the test command runs everything: the image builds offline, works
against the test PostgreSQL, plays as a Kubernetes Deployment, and leaves nothing behind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.promtools import tool

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.long]


def _made() -> set[str]:
    """Every image, container, pod and volume podman knows."""
    found = set()
    for kind in (["images", "-aq"], ["ps", "-aq"], ["pod", "ls", "-q"], ["volume", "ls", "-q"]):
        listed = subprocess.run([tool("podman"), *kind], capture_output=True, text=True, check=True)
        found |= {f"{kind[0]} {name}" for name in listed.stdout.split()}
    return found


def test_image_builds_runs_stops_cleanly_and_is_removed() -> None:
    for needed in ("podman", "debootstrap", "skopeo"):
        tool(needed)  # fails in CI, skips elsewhere, when scripts/setup --test did not run
    before = _made()
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "image-test")],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for promise in (
        "jobmon_database_up 1",
        "`jobmon start count --wait` ran inside it",
        "SIGTERM: exit 0, run server_stopped, restarted by the next container",
        "/-/ready",
        "/-/healthy",
        "user 10001, entrypoint jobmon, command run; no pip, no compiler",
    ):
        assert promise in out, promise
    size = re.search(r"image size (\d+) MB", out)
    assert size is not None and int(size.group(1)) < 300, out
    assert _made() == before, "the image test left something behind"
