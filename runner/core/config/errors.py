"""Config errors: every problem on one line, naming its key path (``jobs[2].schedule: ...``).

Both jobmon's config and the exporter's web config file turn pydantic's errors into lines
here, so the two read alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# pydantic error types and the plain words shown for them.
# Tells which parts of a location are not keys in the file (a union's discriminator level).
Skip = Callable[[Sequence[Any], int], bool]
MESSAGES = {"extra_forbidden": "unknown key", "missing": "required key is missing"}


class ConfigError(ValueError):
    """An invalid config file: ``problems`` holds one ``path: message`` line per error."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def join(path: str, key: Any) -> str:
    """``path.key`` (or ``key`` at the top)."""
    return f"{path}.{key}" if path else str(key)


def key_path(loc: Sequence[Any], skip: Skip | None = None) -> str:
    """A pydantic location as the user wrote it: ``jobs[2].columns[0].type``."""
    path = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif skip is None or not skip(loc, i):
            path = join(path, part)
    return path or "<root>"


def problem(err: Any, skip: Skip | None = None) -> str:
    """One pydantic error as ``key.path: message``."""
    message = MESSAGES.get(err["type"], str(err["msg"]))
    return f"{key_path(err['loc'], skip)}: {message.removeprefix('Value error, ')}"
