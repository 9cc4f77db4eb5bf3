"""The image read without running jobmon: saved as an OCI archive and inspected with skopeo
(user, entrypoint, command), and searched for pip and a compiler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scripts.image.podman import Failed, Podman, command

EXPECTED = {"User": "10001:10001", "Entrypoint": ["jobmon"], "Cmd": ["run"]}
# Prints what it finds: nothing in a good image.
SEARCH = (
    "for tool in pip pip3 gcc cc c++ make; do command -v $tool; done;"
    " python3 -c 'import pip' 2>/dev/null && echo 'python3 -m pip';"
    " /opt/jobmon/bin/python -c 'import pip' 2>/dev/null && echo 'venv pip'; true"
)


def oci_config(podman: Podman, image: str, work: Path) -> dict[str, Any]:
    """The image's config as the OCI archive ``podman save`` writes holds it."""
    archive = work / "jobmon-image.oci.tar"
    podman.run("save", "--format", "oci-archive", "-o", str(archive), image)
    found: dict[str, Any] = json.loads(
        command(["skopeo", "inspect", "--config", f"oci-archive:{archive}"])
    )
    archive.unlink()
    return dict(found["config"])


def check_static(podman: Podman, image: str, work: Path) -> None:
    """User, entrypoint and command as promised; no pip or compiler inside."""
    config = oci_config(podman, image, work)
    for key, value in EXPECTED.items():
        if config.get(key) != value:
            raise Failed(f"image config {key} is {config.get(key)!r}, expected {value!r}")
    found = podman.run("run", "--rm", "--entrypoint", "/bin/sh", image, "-c", SEARCH).split()
    if found:
        raise Failed(f"the image holds {found}")
