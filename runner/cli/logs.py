"""Logging to stderr, with every configured secret masked in every record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from runner.core.config.secrets import redact

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Local time to the second, as in every human output of jobmon.
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class RedactSecrets(logging.Filter):
    """Replaces secrets (database passwords) in log messages and tracebacks with ``***``."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = redact(record.getMessage(), self.secrets)
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact(
                    logging.Formatter().formatException(record.exc_info), self.secrets
                )
                record.exc_info = None
        return True


def setup(level: str, secrets: Iterable[str | None] = ()) -> None:
    """Log at ``level`` to stderr, masking ``secrets``."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT, datefmt=DATE_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
