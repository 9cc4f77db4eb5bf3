"""Secrets in the config (database passwords): masked wherever text leaves jobmon."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import URL, make_url


def check_database_url(value: str) -> str:
    """A pydantic validator body: the value must parse as a SQLAlchemy URL.

    The error never echoes the value: it may hold a password.
    """
    try:
        make_url(value)
    except Exception:
        raise ValueError("not a valid SQLAlchemy database URL") from None
    return value


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for logs and messages."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except Exception:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def url_passwords(urls: Iterable[str]) -> list[str]:
    """The passwords found in database URLs."""
    secrets: list[str] = []
    for url in urls:
        try:
            password = make_url(url).password
        except Exception:
            continue
        if password:
            secrets.append(str(password))
    return secrets
