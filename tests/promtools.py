"""Finding the Prometheus tools (promtool, prometheus, alertmanager, amtool) for tests.

``make test`` installs Debian's packages. When a binary is missing, a local run skips the test
that needs it; in CI (``CI=true``) it fails instead, so a missing tool can never pass silently.
"""

from __future__ import annotations

import os
import shutil

import pytest


def tool(name: str) -> str:
    """The path of the binary ``name``; fail in CI, skip elsewhere, when it is missing."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} not found on PATH (make test installs Debian's prometheus packages)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)
