"""The server's TLS context from ``tls_server_config``, checked before the exporter starts.

Client certificates are verified against ``client_ca_file`` (``RequireAndVerifyClientCert``
or ``VerifyClientCertIfGiven``). The toolkit's ``RequestClientCert`` and
``RequireAnyClientCert`` accept certificates without verifying them; Python's ``ssl``
cannot, and they protect nothing, so they are refused with a clear message.
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from exporter.webconfig_schema import TLS_VERSIONS, TLSServerConfig

VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
assert tuple(VERSIONS) == TLS_VERSIONS  # the names the schema lets through
VERIFYING = {
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# Go's names of the TLS 1.2 suites it offers, as OpenSSL names them. Go ignores the setting
# for TLS 1.3 suites; so does this (OpenSSL picks among its TLS 1.3 suites).
CIPHERS = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
}
TLS13_CIPHERS = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
CURVES = {"CurveP256": "prime256v1", "CurveP384": "secp384r1", "CurveP521": "secp521r1"}
CURVES["X25519"] = "X25519"


class TLSConfigError(ValueError):
    """A problem with one key of ``tls_server_config``."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class TLSConfigProblems(ValueError):
    """Every problem found in ``tls_server_config``, one :class:`TLSConfigError` each."""

    def __init__(self, problems: list[TLSConfigError]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.key}: {p}" for p in problems))


def server_context(config: TLSServerConfig, base: Path) -> ssl.SSLContext:
    """An ``SSLContext`` for the server; paths are relative to ``base``.

    Every setting is checked even after one fails, so one run reports every problem.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    problems: list[TLSConfigError] = []
    steps: tuple[Callable[[], None], ...] = (
        lambda: _versions(context, config),
        lambda: _certificate(context, config, base),
        lambda: _client_auth(context, config, base),
        lambda: _ciphers(context, config),
        lambda: _curves(context, config),
    )
    for step in steps:
        try:
            step()
        except TLSConfigProblems as exc:
            problems += exc.problems
        except TLSConfigError as exc:
            problems.append(exc)
    if problems:
        raise TLSConfigProblems(problems)
    return context


def _versions(context: ssl.SSLContext, config: TLSServerConfig) -> None:
    low, high = VERSIONS[config.min_version], VERSIONS[config.max_version]
    if low > high:
        raise TLSConfigError("min_version", f"{config.min_version} is above max_version")
    context.minimum_version, context.maximum_version = low, high


def _text(key: str, inline: str | None, path: str | None, base: Path) -> str | None:
    if inline and path:
        raise TLSConfigError(key, f"set either {key} or {key}_file, not both")
    if not path:
        return inline or None
    full = base / path
    try:
        return full.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a text file"
        raise TLSConfigError(f"{key}_file", f"cannot read {full}: {reason}") from None


def _pem_pair(config: TLSServerConfig, base: Path) -> tuple[str, str]:
    """The certificate and key texts, or every problem with either."""
    problems: list[TLSConfigError] = []
    texts: list[str] = []
    for name, inline, path in (
        ("cert", config.cert, config.cert_file),
        ("key", config.key, config.key_file),
    ):
        try:
            text = _text(name, inline, path, base)
        except TLSConfigError as exc:
            problems.append(exc)
            continue
        if not text:
            problems.append(
                TLSConfigError(f"{name}_file", f"required when TLS is configured (or {name})")
            )
        elif name == "cert" and "-----BEGIN CERTIFICATE-----" not in text:
            problems.append(TLSConfigError("cert_file", "no PEM certificate found"))
        texts.append(text or "")
    if problems:
        raise TLSConfigProblems(problems)
    return texts[0], texts[1]


def _certificate(context: ssl.SSLContext, config: TLSServerConfig, base: Path) -> None:
    cert, key = _pem_pair(config, base)
    # load_cert_chain reads files only: write both to a private temporary directory.
    with tempfile.TemporaryDirectory(prefix="jobmon-tls-") as tmp:
        cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_path.write_text(cert, encoding="utf-8")
        key_path.touch(mode=0o600)
        key_path.write_text(key, encoding="utf-8")
        try:
            context.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as exc:
            raise TLSConfigError(
                "key_file", f"not a PEM private key matching the certificate ({exc.reason})"
            ) from None


def _client_auth(context: ssl.SSLContext, config: TLSServerConfig, base: Path) -> None:
    kind = config.client_auth_type
    ca = _text("client_ca", config.client_ca, config.client_ca_file, base)
    if kind not in VERIFYING and kind != "NoClientCert":
        raise TLSConfigError(
            "client_auth_type",
            f"{kind} accepts unverified certificates and is not supported; "
            "use RequireAndVerifyClientCert with client_ca_file",
        )
    if config.client_allowed_sans is not None and kind != "RequireAndVerifyClientCert":
        raise TLSConfigError("client_allowed_sans", "needs RequireAndVerifyClientCert")
    if kind == "NoClientCert":
        if ca:
            raise TLSConfigError("client_ca_file", "set, but client_auth_type does not verify")
        return
    if not ca:
        raise TLSConfigError("client_ca_file", f"required by client_auth_type {kind}")
    try:
        context.load_verify_locations(cadata=ca)
    except (ssl.SSLError, ValueError) as exc:
        raise TLSConfigError("client_ca_file", f"no usable PEM CA certificate ({exc})") from None
    context.verify_mode = VERIFYING[kind]


def _ciphers(context: ssl.SSLContext, config: TLSServerConfig) -> None:
    if config.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if not config.cipher_suites:
        return
    names = []
    for i, suite in enumerate(config.cipher_suites):
        if suite in TLS13_CIPHERS:
            continue
        if suite not in CIPHERS:
            raise TLSConfigError(f"cipher_suites[{i}]", f'unknown cipher suite "{suite}"')
        names.append(CIPHERS[suite])
    if names:
        try:
            context.set_ciphers(":".join(names))
        except ssl.SSLError:
            raise TLSConfigError("cipher_suites", "none of these suites is available") from None


def _curves(context: ssl.SSLContext, config: TLSServerConfig) -> None:
    curves = config.curve_preferences or []
    for i, curve in enumerate(curves):
        if curve not in CURVES:
            raise TLSConfigError(f"curve_preferences[{i}]", f'unknown curve "{curve}"')
    if len(curves) > 1:
        raise TLSConfigError("curve_preferences", "only one curve can be set (Python's ssl)")
    if curves:
        context.set_ecdh_curve(CURVES[curves[0]])


def peer_sans(cert: Mapping[str, Any] | None) -> set[str]:
    """The subject alternative names of a verified peer certificate (DNS, IP, email, URI)."""
    values = set()
    for kind, value in (cert or {}).get("subjectAltName", ()):
        if kind in ("DNS", "IP Address", "email", "URI"):
            values.add(str(value).strip())
    return values
