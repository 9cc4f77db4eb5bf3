"""The exporter-toolkit web config: what loads, and errors that name the key."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exporter import webconfig
from exporter.server import ExporterServer
from exporter.webconfig import WebConfigError
from exporter.webconfig_schema import go_duration
from runner.core.config import Config
from tests.exporter.conftest import bcrypt_hash
from tests.exporter.pki import PKI

WebConfig = Callable[[dict[str, Any]], str]


def tls(pki: PKI, **extra: Any) -> dict[str, Any]:
    return {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key), **extra}


def problems(path: str) -> list[str]:
    with pytest.raises(WebConfigError) as caught:
        webconfig.load(path)
    return caught.value.problems


def test_empty_file_serves_plain_http_without_auth(write_web_config: WebConfig) -> None:
    settings = webconfig.load(write_web_config({}))
    assert settings.tls is None and settings.users == {} and settings.rate_interval == 0


def test_full_file_loads(write_web_config: WebConfig, pki: PKI) -> None:
    settings = webconfig.load(
        write_web_config(
            {
                "tls_server_config": tls(
                    pki,
                    client_auth_type="RequireAndVerifyClientCert",
                    client_ca_file=str(pki.ca),
                    client_allowed_sans=["prometheus.test"],
                    min_version="TLS13",
                    cipher_suites=["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
                    curve_preferences=["CurveP256"],
                ),
                "http_server_config": {"http2": False, "headers": {"X-Frame-Options": "deny"}},
                "basic_auth_users": {"alice": bcrypt_hash("pw")},
                "rate_limit": {"interval": "1m30s", "burst": 5},
            }
        )
    )
    assert settings.tls is not None
    assert settings.tls.verify_mode == ssl.CERT_REQUIRED
    assert settings.tls.minimum_version == ssl.TLSVersion.TLSv1_3
    assert settings.allowed_sans == ("prometheus.test",)
    assert settings.rate_interval == 90 and settings.rate_burst == 5


def test_relative_paths_are_relative_to_the_file(tmp_path: Path, pki: PKI) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    shutil.copy(pki.server.cert, folder / "s.crt")
    shutil.copy(pki.server.key, folder / "s.key")
    path = folder / "web.yml"
    path.write_text("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n")
    assert webconfig.load(path).tls is not None


def test_inline_certificate_and_key(write_web_config: WebConfig, pki: PKI) -> None:
    inline = {"cert": pki.server.cert.read_text(), "key": pki.server.key.read_text()}
    assert webconfig.load(write_web_config({"tls_server_config": inline})).tls is not None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"tls_server_cofig": {}}, "tls_server_cofig: unknown key"),
        ({"tls_server_config": {"cert_fil": "x"}}, "tls_server_config.cert_fil: unknown key"),
        ({"http_server_config": {"header": {}}}, "http_server_config.header: unknown key"),
        ({"basic_auth_users": {"bob": "plaintext"}}, 'basic_auth_users: user "bob": not a bcrypt'),
        ({"basic_auth_users": {"bob": "$2b$03$" + "a" * 53}}, "basic_auth_users: user"),
        ({"tls_server_config": {"min_version": "TLS14"}}, "tls_server_config.min_version: unknown"),
        ({"tls_server_config": {"client_auth_type": "Always"}}, "client_auth_type: unknown"),
        ({"http_server_config": {"headers": {"X-Foo": "1"}}}, 'headers: header "X-Foo"'),
        ({"http_server_config": {"headers": {"X-Frame-Options": "allow"}}}, "X-Frame-Options must"),
        ({"rate_limit": {"interval": "soon"}}, "rate_limit.interval: invalid duration"),
    ],
)
def test_invalid_files_name_the_key(
    write_web_config: WebConfig, content: dict[str, Any], expected: str
) -> None:
    found = problems(write_web_config(content))
    assert any(expected in p for p in found), found


def test_bcrypt_hash_is_never_echoed(write_web_config: WebConfig) -> None:
    secret = "$2b$10$" + "x" * 20
    found = problems(write_web_config({"basic_auth_users": {"bob": secret}}))
    assert secret not in "\n".join(found)


def _tls_problem(write_web_config: WebConfig, **settings: Any) -> str:
    [problem] = problems(write_web_config({"tls_server_config": settings}))
    return problem


def test_tls_file_problems_name_the_key(
    write_web_config: WebConfig, pki: PKI, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.crt")
    cert, key, ca = str(pki.server.cert), str(pki.server.key), str(pki.ca)
    cases = {
        "tls_server_config.cert_file: cannot read": {"cert_file": missing, "key_file": key},
        "tls_server_config.key_file: cannot read": {"cert_file": cert, "key_file": missing},
        "tls_server_config.key_file: required": {"cert_file": cert},
        "tls_server_config.cert_file: no PEM certificate": {"cert_file": key, "key_file": key},
        "tls_server_config.key_file: not a PEM private key": {
            "cert_file": cert,
            "key_file": str(pki.client.key),
        },
        "tls_server_config.client_ca_file: required": tls(
            pki, client_auth_type="RequireAndVerifyClientCert"
        ),
        "tls_server_config.client_ca_file: set, but": tls(pki, client_ca_file=ca),
        "tls_server_config.client_auth_type: RequestClientCert": tls(
            pki, client_auth_type="RequestClientCert", client_ca_file=ca
        ),
        "tls_server_config.client_allowed_sans: needs": tls(pki, client_allowed_sans=["x"]),
        "tls_server_config.min_version: TLS13 is above": tls(
            pki, min_version="TLS13", max_version="TLS12"
        ),
        "tls_server_config.cipher_suites[0]: unknown": tls(pki, cipher_suites=["TLS_MADE_UP"]),
        "tls_server_config.curve_preferences[0]: unknown": tls(pki, curve_preferences=["P999"]),
    }
    for expected, settings in cases.items():
        assert _tls_problem(write_web_config, **settings).startswith(expected), expected


def test_unreadable_or_invalid_files(tmp_path: Path) -> None:
    assert problems(str(tmp_path / "absent.yml")) == ["cannot read: No such file or directory"]
    bad = tmp_path / "bad.yml"
    bad.write_text("tls_server_config: [unclosed")
    assert problems(str(bad))[0].startswith("not valid YAML")


def test_exporter_refuses_to_start_on_a_bad_web_config(write_web_config: WebConfig) -> None:
    path = write_web_config({"tls_server_config": {"min_version": "TLS9"}})
    with pytest.raises(WebConfigError, match=r"tls_server_config\.min_version"):
        ExporterServer(Config(), listen_address="127.0.0.1:0", web_config_file=path)


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("1s", 1), ("500ms", 0.5), ("1h2m", 3720)])
def test_go_durations(text: str, seconds: float) -> None:
    assert go_duration(text) == seconds
