"""podman as the image test uses it: every container, pod and image it makes is remembered
and removed at the end, and the host's two quirks are set in a containers.conf of its own."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


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
        self.kube_files: list[Path] = []
        self.images_before = set(self.run("images", "-aq").split())
        self.volumes_before = set(self._volumes())

    def _volumes(self) -> list[str]:
        return self.run("volume", "ls", "-q").split()

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        """podman ``args``; its stdout. A failure raises :class:`Failed` with stderr."""
        return command(["podman", *args], env=self.env, check=check, timeout=timeout)

    def start(self, name: str, *args: str) -> str:
        """``podman run -d --name name args``, remembered for removal."""
        self.containers.append(name)
        return self.run("run", "-d", "--name", name, *args).strip()

    def clean(self) -> list[str]:
        """Remove every container, pod, volume (a played ConfigMap's) and image made since this
        object was created."""
        removed = []
        for path in self.kube_files:
            self.run("kube", "down", str(path), check=False)
        for name in self.containers:
            if self.run("rm", "-f", "-t", "0", name, check=False):
                removed.append(f"container {name}")
        for volume in set(self._volumes()) - self.volumes_before:
            if self.run("volume", "rm", "-f", volume, check=False):
                removed.append(f"volume {volume}")
        for image in set(self.run("images", "-aq").split()) - self.images_before:
            if self.run("rmi", "-f", image, check=False):
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
