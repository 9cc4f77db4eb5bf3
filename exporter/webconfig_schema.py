"""The keys and values of the web config file (exporter-toolkit's format), as pydantic models.

Only what the file may say; what it means for the server (the TLS context, the settings) is
built by :mod:`exporter.tls` and :mod:`exporter.webconfig` from these models.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from runner.core.config import Strict

CLIENT_AUTH_TYPES = (
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "RequireClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
)
TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")
# The toolkit allows these response headers only; some take a fixed set of values.
HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
_BCRYPT = re.compile(r"^\$2[abxy]?\$(\d\d)\$[./A-Za-z0-9]{53}$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(value: str) -> float:
    """Seconds in a Go duration string such as ``1m30s`` or ``500ms`` (``0`` is allowed)."""
    text = value.strip()
    if text == "0":
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f'invalid duration "{value}" (examples: 1s, 500ms, 1m30s)')
    return sum(float(n) * _UNITS[u] for n, u in parts)


class TLSServerConfig(Strict):
    """``tls_server_config``."""

    cert: str | None = None
    key: str | None = None
    client_ca: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    client_auth_type: str = "NoClientCert"
    client_ca_file: str | None = None
    client_allowed_sans: list[str] | None = None
    min_version: str = "TLS12"
    max_version: str = "TLS13"
    cipher_suites: list[str] | None = None
    prefer_server_cipher_suites: bool = True
    curve_preferences: list[str] | None = None

    @field_validator("client_auth_type")
    @classmethod
    def _auth_type(cls, value: str) -> str:
        if value not in CLIENT_AUTH_TYPES:
            raise ValueError(f'unknown "{value}"; expected one of {", ".join(CLIENT_AUTH_TYPES)}')
        return value

    @field_validator("min_version", "max_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in TLS_VERSIONS:
            raise ValueError(
                f'unknown TLS version "{value}"; expected one of {", ".join(TLS_VERSIONS)}'
            )
        return value

    def enabled(self) -> bool:
        """Whether any TLS setting is given (the toolkit serves plain HTTP otherwise)."""
        names = ("cert", "key", "client_ca", "cert_file", "key_file", "client_ca_file")
        return any(getattr(self, n) for n in names) or "client_auth_type" in self.model_fields_set


class HTTPServerConfig(Strict):
    """``http_server_config``: ``http2`` is accepted for compatibility (HTTP/1.1 is served)."""

    http2: bool = True
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, content in value.items():
            if name not in HEADERS:
                raise ValueError(f'header "{name}" cannot be set; allowed: {", ".join(HEADERS)}')
            allowed = HEADERS[name]
            if allowed and content not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        return value


class RateLimitConfig(Strict):
    """``rate_limit``: a token bucket over all requests (interval 0 disables it)."""

    interval: str = "0"
    burst: int = Field(default=0, ge=0)

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        go_duration(value)
        return value


class WebConfigFile(Strict):
    """The whole file."""

    tls_server_config: TLSServerConfig | None = None
    http_server_config: HTTPServerConfig = HTTPServerConfig()
    basic_auth_users: dict[str, str] = Field(default_factory=dict)
    rate_limit: RateLimitConfig | None = None

    @field_validator("basic_auth_users")
    @classmethod
    def _hashes(cls, value: dict[str, str]) -> dict[str, str]:
        for user, hashed in value.items():
            match = _BCRYPT.match(str(hashed))
            if match is None or not 4 <= int(match.group(1)) <= 31:
                # Never echo the value: it is a password hash.
                raise ValueError(f'user "{user}": not a bcrypt hash (htpasswd -nBC 10 "" ...)')
        return value
