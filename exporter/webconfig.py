"""The web config file (``--web.config.file``) in Prometheus exporter-toolkit's format.

Supported: ``tls_server_config`` (certificate and key as files or inline PEM, client
certificate verification, allowed client SANs, TLS versions, TLS 1.2 cipher suites, server
cipher preference, one ECDH curve), ``http_server_config.headers`` (the toolkit's five
security headers), ``basic_auth_users`` (bcrypt hashes) and ``rate_limit``. Relative paths
are relative to the file's directory, as in the toolkit. Unknown keys and invalid values
refuse to start, with one line per problem naming the key. The file is read at start-up;
restart the exporter to apply a change.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from exporter import tls
from exporter.webconfig_schema import RateLimitConfig, WebConfigFile, go_duration
from runner.core.config import ConfigError
from runner.core.config.errors import problem


class WebConfigError(ConfigError):
    """An invalid web config: ``problems`` holds one ``key.path: message`` line each."""


@dataclass(frozen=True)
class WebSettings:
    """What the server needs from the file: TLS context, headers, users, rate limit."""

    tls: ssl.SSLContext | None = None
    allowed_sans: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    rate_interval: float = 0.0
    rate_burst: int = 0


def load(path: str | Path) -> WebSettings:
    """Read and validate the web config file; raise :class:`WebConfigError` naming keys."""
    source = str(path)
    parsed = _parse(_read(path, source), source)
    tls_config = parsed.tls_server_config
    context = None
    if tls_config is not None and tls_config.enabled():
        try:
            context = tls.server_context(tls_config, Path(path).resolve().parent)
        except tls.TLSConfigProblems as exc:
            lines = [f"tls_server_config.{p.key}: {p}" for p in exc.problems]
            raise WebConfigError(source, lines) from None
    limit = parsed.rate_limit or RateLimitConfig()
    return WebSettings(
        tls=context,
        allowed_sans=tuple(tls_config.client_allowed_sans or ()) if tls_config else (),
        headers=dict(parsed.http_server_config.headers),
        users=dict(parsed.basic_auth_users),
        rate_interval=go_duration(limit.interval),
        rate_burst=limit.burst,
    )


def _read(path: str | Path, source: str) -> Any:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise WebConfigError(source, [f"cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise WebConfigError(source, [f"not valid YAML: {exc}"]) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise WebConfigError(source, ["the top level must be a mapping"])
    return raw


def _parse(raw: Any, source: str) -> WebConfigFile:
    try:
        return WebConfigFile.model_validate(raw)
    except ValidationError as exc:
        problems = [problem(err) for err in exc.errors(include_input=False)]
        raise WebConfigError(source, problems) from None
