"""A console request and response, independent of the HTTP server that carries them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Request:
    """What the console needs of a request; ``user`` is the basic-auth user, if any."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    user: str | None = None

    def arg(self, name: str, default: str = "") -> str:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int, *, least: int = 1, most: int = 10**9) -> int:
        """Query parameter ``name`` as an int within bounds (``default`` if absent or bad)."""
        try:
            value = int(self.arg(name))
        except ValueError:
            return default
        return max(least, min(most, value))

    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body (first value of each field)."""
        fields = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[0] for name, values in fields.items()}

    def header(self, name: str) -> str | None:
        """A header, looked up without regard to case."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass
class Response:
    """Status, body and headers; the server adds the web config's own headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Response:
        """A redirect to ``location`` (a path on this server)."""
        return cls(status, b"", {"Location": location})
