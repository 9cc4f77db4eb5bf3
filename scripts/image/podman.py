"""podman as the image test uses it: every container, pod, volume and image it makes carries
this process's id (``MARK`` in names, ``LABEL`` on images) and is removed at the end, whatever
else podman holds (another image test may run beside it), and the host's two quirks are set in
a containers.conf of its own."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

MARK = f"jobmon-image-test-{os.getpid()}"  # in the name of each container, pod and volume
LABEL = f"jobmon-image-test={os.getpid()}"  # on each image, intermediate ones included
# podman builds this image for the first pod it starts (kube play) and keeps it for the next.
PAUSE = "reference=localhost/podman-pause"


class Failed(Exception):
    """A check of the image test failed; the message says which and why."""


def _containers_conf(directory: Path) -> Path:
    # podman's default nofile limit is above this host's hard limit, and crun refuses hybrid
    # cgroups: set both (see ../shared NOTES "Containers").
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    path = directory / "containers.conf"
    path.write_text(
        f'[containers]\ndefault_ulimits = ["nofile={hard}:{hard}", "nproc=4096:4096"]\n'
        '[engine]\nruntime = "runc"\n',
        encoding="utf-8",
    )
    return path


class Podman:
    """Runs podman and removes, on :meth:`clean`, what it made."""

    def __init__(self, work: Path) -> None:
        self.env = {**os.environ, "CONTAINERS_CONF": str(_containers_conf(work))}
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.kube_files: list[Path] = []
        self.pause_before = set(self.run("images", "-q", "--filter", PAUSE).split())

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        """podman ``args``; its stdout. A failure raises :class:`Failed` with stderr."""
        return command(["podman", *args], env=self.env, check=check, timeout=timeout)

    def start(self, name: str, *args: str) -> str:
        """``podman run -d --name name args``, remembered for removal."""
        self.containers.append(name)
        return self.run("run", "-d", "--name", name, *args).strip()

    def clean(self) -> list[str]:
        """Remove every container, pod, volume (a played ConfigMap's) and image made here."""
        removed = []
        for path in self.kube_files:
            self.run("kube", "down", str(path), check=False)
        for name in self.containers:
            if self.run("rm", "-f", "-t", "0", name, check=False):
                removed.append(f"container {name}")
        for volume in self.volumes:
            if self.run("volume", "rm", "-f", volume, check=False):
                removed.append(f"volume {volume}")
        images = self.run("images", "-aq", "--filter", f"label={LABEL}", check=False).split()
        if images and self.run("rmi", "-f", *images, check=False):
            removed += [f"image {image}" for image in images]
        # The pause image, if this run made podman build it; without -f, podman keeps it while
        # a pod of another run uses it.
        for image in set(self.run("images", "-q", "--filter", PAUSE).split()) - self.pause_before:
            if self.run("rmi", image, check=False):
                removed.append(f"image {image}")
        return removed


def command(
    args: Sequence[str], env: dict[str, str] | None = None, check: bool = True, timeout: float = 600
) -> str:
    """Run ``args``; its stdout, or :class:`Failed` naming the command and its stderr."""
    result = subprocess.run(
        list(args), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise Failed(f"{' '.join(args[:4])}... exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def step(title: str, started: float) -> float:
    """Print that ``title`` is done and how long it took; the time now."""
    now = time.monotonic()
    print(f"image-test: {title} ({now - started:.1f} s)", flush=True)
    return now
