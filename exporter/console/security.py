"""Who may read and who may act, cross-site request refusal, and the console's headers.

Reading needs what every exporter path needs (basic auth when users are configured). Acting
(start, pause, resume, cancel) needs a user listed in ``exporter.console.operators``; without
basic auth nobody can be told apart, so acting is allowed only when the console listens on a
loopback address. A state-changing request is refused unless it comes from the console's own
pages: forms carry a token bound to the user, API calls must be JSON, and any ``Origin`` header
must be this server's.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from exporter.console.http import Request

# No inline script or style, nothing from another origin, never inside a frame.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def is_loopback(host: str) -> bool:
    """Whether a listen host only accepts local connections (``localhost``, 127/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Guard:
    """The console's access rules for one server."""

    auth_enabled: bool
    operators: Collection[str]
    loopback: bool
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def can_control(self, user: str | None) -> bool:
        """Whether ``user`` may start, pause, resume and cancel runs."""
        if self.auth_enabled:
            return user is not None and user in self.operators
        return self.loopback

    def read_only_reason(self, user: str | None) -> str:
        """Why the page is read-only for ``user`` (empty when it is not)."""
        if self.can_control(user):
            return ""
        if self.auth_enabled:
            return f"read-only: {user or 'this user'} is not in exporter.console.operators"
        return "read-only: without basic auth, control is allowed only on a loopback address"

    def token(self, user: str | None) -> str:
        """The form token for ``user`` (stable for the server's life)."""
        return hmac.new(self.secret, (user or "").encode(), hashlib.sha256).hexdigest()

    def same_origin(self, request: Request) -> bool:
        """False when the request says it comes from another origin."""
        origin = request.header("Origin")
        if origin is None:  # not a browser, or a same-origin GET: nothing to compare
            return True
        host = request.header("Host") or ""
        return urlsplit(origin).netloc == host

    def form_allowed(self, request: Request, form: dict[str, str]) -> bool:
        """A form post from the console's own page: right origin and the user's token."""
        given = form.get("csrf", "")
        return self.same_origin(request) and hmac.compare_digest(given, self.token(request.user))

    def api_allowed(self, request: Request) -> bool:
        """An API post: JSON (a cross-site form cannot send it) from this origin or none."""
        kind = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        return kind == "application/json" and self.same_origin(request)
