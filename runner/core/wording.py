"""Counts in words, the same in the journal, the CLI and the logs: ``1 record``, ``2 records``."""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    """``1 record``, ``2 records``, ``1,234 rejects``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")
