"""The image at work against the test PostgreSQL: metrics and readiness, the CLI and a job run
inside the container, and a SIGTERM in the middle of a run."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from scripts.image.podman import MARK, Failed, Podman

PASSWORD = "image-test-s3cret"  # trust auth ignores it; it must show nowhere
JOBS = [
    {"name": "count", "kind": "python", "callable": "runner.examples:count",
     "params": {"total": 20, "step": 5}},
    {"name": "slow", "kind": "python", "callable": "runner.examples:count",
     "params": {"total": 100000, "step": 1, "delay": 0.2}},
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_file(work: Path, database: str) -> Path:
    """A jobmon config for the test database, its password from the environment."""
    config = {
        "database": {
            "url": f"postgresql+psycopg://postgres:${{JOBMON_DB_PASSWORD}}@127.0.0.1:5432/{database}"
        },
        "runner": {"heartbeat_seconds": 1, "stale_after_seconds": 5, "shutdown_grace_seconds": 3},
        "jobs": JOBS,
    }
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    path.chmod(0o644)
    return path


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


def wait(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.5)
    raise Failed(f"timed out waiting for {what}")


class Deployment:
    """Containers of the image on one database, reached on the host network."""

    def __init__(self, podman: Podman, image: str, config: Path) -> None:
        self.podman, self.image, self.config = podman, image, config
        self.count = 0

    def start(self) -> tuple[str, int]:
        """``jobmon run`` (the image's default) in a new container; its name and port."""
        self.count += 1
        name, port = f"{MARK}-{self.count}", free_port()
        self.podman.start(
            name, "--network", "host",
            "-v", f"{self.config}:/etc/jobmon/config.yaml:ro",
            "-e", f"JOBMON_LISTEN_ADDRESS=127.0.0.1:{port}",
            "-e", f"JOBMON_DB_PASSWORD={PASSWORD}",
            self.image,
        )  # fmt: skip
        wait(lambda: "jobmon_database_up 1" in fetch(f"http://127.0.0.1:{port}/metrics")[1],
             "/metrics with jobmon_database_up 1")  # fmt: skip
        return name, port

    def jobmon(self, container: str, *args: str) -> str:
        """A jobmon command inside ``container``."""
        return self.podman.run("exec", container, "jobmon", *args)

    def latest(self, container: str, job: str) -> dict[str, Any]:
        shown: dict[str, Any] = json.loads(self.jobmon(container, "show", job, "--output", "json"))
        return shown


def stopped_cleanly(podman: Podman, container: str) -> int:
    """SIGTERM (``podman stop``) and the exit code the process gave."""
    podman.run("stop", "--time", "30", container)
    return int(podman.run("inspect", container, "--format", "{{.State.ExitCode}}").strip())
