"""The image, built with no registry and no network: a Debian base from debootstrap, jobmon's
wheels built on this host, and ``podman build --network none`` of the Containerfile."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from scripts.image.podman import LABEL, Podman, command

ROOT = Path(__file__).resolve().parents[2]
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# What the base needs besides minbase; docs, manuals, locales and apt's caches are dropped.
PACKAGES = "python3,python3-venv"
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")


def mirror() -> str:
    """This host's Debian mirror (its deb822 sources), or deb.debian.org."""
    if SOURCES.exists():
        found = re.search(r"^URIs:\s*(\S+/debian)\s*$", SOURCES.read_text(), re.MULTILINE)
        if found:
            return found.group(1)
    return DEFAULT_MIRROR


def base(podman: Podman, work: Path, tag: str) -> str:
    """A bookworm base with python3 and venv, imported as ``tag``."""
    rootfs = work / "rootfs"
    command(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm",
             str(rootfs), mirror()], timeout=900)  # fmt: skip
    for part in TRIM:
        shutil.rmtree(rootfs / part, ignore_errors=True)
    archive = work / "rootfs.tar"
    command(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."])
    shutil.rmtree(rootfs)
    podman.run("import", "--change", f"LABEL {LABEL}", str(archive), tag)
    archive.unlink()
    return tag


def wheels(context: Path) -> int:
    """jobmon's wheel and its dependencies' into ``context/wheels``; how many."""
    target = context / "wheels"
    command([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(target),
             str(ROOT)], timeout=900)  # fmt: skip
    return len(list(target.glob("*.whl")))


def image(podman: Podman, context: Path, base_tag: str, tag: str) -> int:
    """Build the Containerfile on ``base_tag`` as ``tag``, offline; its size in bytes."""
    podman.run("build", "--quiet", "--network", "none", "--build-arg", f"BASE={base_tag}",
               "--label", LABEL, "-f", str(ROOT / "Containerfile"), "-t", tag, str(context),
               timeout=900)  # fmt: skip
    (found,) = json.loads(podman.run("image", "inspect", tag))
    return int(found["Size"])
