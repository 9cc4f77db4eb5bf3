"""A test CA with a server certificate for 127.0.0.1 and client certificates (P-256 keys)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Pair:
    """A certificate and its key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class PKI:
    """Files of the test CA (``ca``), the server, a client it signed, and a rogue client."""

    ca: Path
    server: Pair
    client: Pair
    rogue: Pair  # signed by another CA: must be refused


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _builder(subject: str, issuer: str, key: Key) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
    )


def _ca(common: str) -> tuple[x509.Certificate, Key]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _builder(common, common, key).add_extension(
        x509.BasicConstraints(ca=True, path_length=None), critical=True
    )
    builder = builder.add_extension(
        x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
    )
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    return builder.sign(key, hashes.SHA256()), key


def _leaf(
    common: str, ca: tuple[x509.Certificate, Key], sans: list[x509.GeneralName], server: bool
) -> tuple[x509.Certificate, Key]:
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    ca_cert, ca_key = ca
    builder = (
        _builder(common, ca_cert.subject.rfc4514_string().removeprefix("CN="), key)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    return builder.sign(ca_key, hashes.SHA256()), key


def _write(directory: Path, name: str, cert: x509.Certificate, key: Key | None = None) -> Pair:
    cert_path = directory / f"{name}.crt"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = directory / f"{name}.key"
    if key is not None:
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return Pair(cert_path, key_path)


def make_pki(directory: Path) -> PKI:
    """Write a CA, a server certificate for 127.0.0.1/localhost and two client certificates."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, rogue_ca = _ca("jobmon test CA"), _ca("rogue CA")
    server_sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
    ]
    client_sans: list[x509.GeneralName] = [x509.DNSName("prometheus.test")]
    return PKI(
        ca=_write(directory, "ca", ca[0]).cert,
        server=_write(directory, "server", *_leaf("localhost", ca, server_sans, server=True)),
        client=_write(directory, "client", *_leaf("prometheus", ca, client_sans, server=False)),
        rogue=_write(directory, "rogue", *_leaf("prometheus", rogue_ca, client_sans, server=False)),
    )
