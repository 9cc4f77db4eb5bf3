"""Files that jobs read and write stay inside the configured data directories.

``runner.data_dirs`` and a job's relative paths are both relative to the runner's working
directory. A path is resolved first (``..`` and symlinks followed), then checked to be inside
one of the resolved data directories, so neither ``../`` nor a symlink can lead out of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class PathError(Exception):
    """A path outside the data directories, or not usable as asked."""


def inside(path: str | Path, data_dirs: Sequence[str | Path]) -> Path:
    """``path`` resolved, or :class:`PathError` if it is outside every data directory."""
    if not data_dirs:
        raise PathError("no data directories are configured (runner.data_dirs)")
    resolved = Path(path).resolve()
    roots = [Path(d).resolve() for d in data_dirs]
    if not any(resolved.is_relative_to(root) for root in roots):
        listed = ", ".join(str(r) for r in roots)
        raise PathError(f"{path} is outside the data directories ({listed})")
    return resolved


def source_file(path: str | Path, data_dirs: Sequence[str | Path]) -> Path:
    """An existing regular file inside the data directories."""
    resolved = inside(path, data_dirs)
    if not resolved.is_file():
        what = "does not exist" if not resolved.exists() else "is not a regular file"
        raise PathError(f"{path} {what}")
    return resolved


def destination_file(path: str | Path, data_dirs: Sequence[str | Path]) -> Path:
    """Where to write ``path``: inside the data directories, its directory created if needed."""
    resolved = inside(path, data_dirs)
    if resolved.is_dir():
        raise PathError(f"{path} is a directory")
    resolved.parent.mkdir(parents=True, exist_ok=True)
    # Check again: a directory created meanwhile could be a symlink leading out.
    again = inside(path, data_dirs)
    if again != resolved:
        raise PathError(f"{path} changed while its directory was created")
    return resolved
