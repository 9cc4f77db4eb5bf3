"""Counts and times in words, the same in the journal, the CLI, the console and the logs:
``1 record``, ``2 records``, ``3 min ago``, ``2 min 05 s``."""

from __future__ import annotations

from datetime import UTC, datetime


def plural(count: int, word: str) -> str:
    """``1 record``, ``2 records``, ``1,234 rejects``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def relative(value: datetime, now: datetime | None = None) -> str:
    """``3 min ago``, ``in 25 s``, ``just now``."""
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    if abs(seconds) < 1:
        return "just now"
    span = duration(abs(seconds), coarse=True)
    return f"{span} ago" if seconds > 0 else f"in {span}"


def duration(seconds: float | None, *, coarse: bool = False) -> str:
    """``4.2 s``, ``3 min 05 s``, ``2 h 10 min``, ``3 days``; ``coarse`` keeps one unit."""
    if seconds is None:
        return "-"
    if seconds < 0.1 and not coarse:
        return "<0.1 s"
    if seconds < 60:
        return f"{seconds:.0f} s" if coarse or seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min" if coarse else f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" if coarse else f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"
