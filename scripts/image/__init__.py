"""scripts/image-test: jobmon's container image, built offline and proved to work here."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg

from scripts.image import build, inspect, kube
from scripts.image.podman import Failed, Podman, step
from scripts.image.running import (
    PASSWORD,
    Deployment,
    config_file,
    fetch,
    stopped_cleanly,
    wait,
)

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
MAX_BYTES = 300 * 1000 * 1000


def _sql(statement: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(statement)  # names made here, never user input


def check_running(deployment: Deployment, started: float) -> float:
    """Metrics and readiness, the CLI, a job run, SIGTERM mid-run and the restart elsewhere."""
    first, port = deployment.start()
    started = step(f"image serves /metrics with jobmon_database_up 1 on :{port}", started)
    if fetch(f"http://127.0.0.1:{port}/-/ready")[0] != 200:
        raise Failed("/-/ready did not answer 200")
    listing = deployment.jobmon(first, "jobs")
    if "count" not in listing or "slow" not in listing:
        raise Failed(f"`jobmon jobs` lacks the jobs:\n{listing}")
    run = deployment.jobmon(first, "start", "count", "--wait")
    if "finished" not in run.lower():
        raise Failed(f"`jobmon start count --wait` did not finish:\n{run}")
    started = step("`jobmon jobs` and `jobmon start count --wait` ran inside it", started)
    deployment.jobmon(first, "start", "slow")
    wait(lambda: (deployment.latest(first, "slow")["run"] or {}).get("status") == "running",
         "slow running")  # fmt: skip
    code = stopped_cleanly(deployment.podman, first)
    second, _ = deployment.start()
    status = deployment.latest(second, "slow")
    if code != 0:
        raise Failed(f"SIGTERM: the container exited {code}")
    transitions = [t["to_status"] for t in status["transitions"]]
    if "server_stopped" not in transitions:
        raise Failed(f"the stopped run never showed server_stopped: {transitions}")
    wait(lambda: (deployment.latest(second, "slow")["run"] or {}).get("status") == "running",
         "slow restarted by the second container")  # fmt: skip
    stopped_cleanly(deployment.podman, second)
    return step("SIGTERM: exit 0, run server_stopped, restarted by the next container", started)


def _logs_hide_the_password(podman: Podman) -> None:
    for name in podman.containers:
        logs = podman.run("logs", name, check=False)
        if PASSWORD in logs:
            raise Failed(f"the database password shows in the logs of {name}")


def run(work: Path, podman: Podman, database: str) -> None:
    tag = f"localhost/jobmon-image-test:{os.getpid()}"
    started = begun = time.monotonic()
    base = build.base(podman, work, f"localhost/jobmon-image-test-base:{os.getpid()}")
    started = step("base image from Debian's packages (debootstrap)", started)
    context = work / "context"
    count = build.wheels(context)
    started = step(f"{count} wheels built on the host", started)
    size = build.image(podman, context, base, tag)
    started = step(f"image built offline: {size / 1e6:.0f} MB", started)
    if size >= MAX_BYTES:
        raise Failed(f"the image is {size / 1e6:.0f} MB, over 300 MB")
    started = check_running(Deployment(podman, tag, config_file(work, database)), started)
    probes = kube.check_kube_play(podman, tag, database, work)
    started = step(
        f"podman kube play of the exporter Deployment: {', '.join(probes)} answer 200", started
    )
    inspect.check_static(podman, tag, work)
    started = step(
        "OCI archive: user 10001, entrypoint jobmon, command run; no pip, no compiler", started
    )
    _logs_hide_the_password(podman)
    print(f"image-test: passed in {time.monotonic() - begun:.0f} s; image size {size / 1e6:.0f} MB")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="jobmon-image-test-"))
    podman = Podman(work)
    database = f"jobmon_image_test_{os.getpid()}"
    _sql(f"CREATE DATABASE {database}")
    try:
        run(work, podman, database)
        return 0
    except Failed as failure:
        print(f"image-test: FAILED: {failure}", flush=True)
        return 1
    finally:
        removed = podman.clean()
        _sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)
        print(f"image-test: removed {len(removed)} containers, volumes and images, and {database}")
