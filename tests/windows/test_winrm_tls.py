"""HTTPS: the certificate is validated unless validation is turned off, explicitly
and with a warning."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.errors import TransportError
from harness.transports.winrm import WinRMTransport
from tests.windows.conftest import FAST, PASSWORD, USER
from tests.windows.wsman_server import WSManServer


def self_signed(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    cert, key = self_signed(tmp_path)
    wsman = WSManServer(tmp_path, USER, PASSWORD, tls=(cert, key)).start()
    wsman.cert = cert
    yield wsman
    wsman.stop()


def https(server, **options):
    return WinRMTransport(
        "standin",
        "127.0.0.1",
        port=server.port,
        scheme="https",
        user=USER,
        password=PASSWORD,
        options={**FAST, **options},
    )


def test_an_untrusted_certificate_is_refused_by_default(tls_server):
    with (
        https(tls_server) as transport,
        pytest.raises(TransportError, match="TLS certificate check failed"),
    ):
        transport.wait_ready(5)


def test_a_trusted_certificate_is_accepted(tls_server):
    with https(tls_server, ca_trust_path=str(tls_server.cert)) as transport:
        assert transport.run(["cmd", "/c", "exit", "2"], timeout=10).exit_code == 2


def test_turning_validation_off_is_explicit_and_logged(tls_server, caplog):
    with https(tls_server, validate=False) as transport:
        assert transport.run(["cmd", "/c", "exit", "0"], timeout=10).exit_code == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("validation is OFF" in r.getMessage() for r in warnings)


def test_basic_authentication_works_over_https(tls_server):
    # TLS encrypts; asking pywinrm to encrypt messages too would refuse Basic.
    with https(tls_server, auth="basic", ca_trust_path=str(tls_server.cert)) as basic:
        assert basic.run(["cmd", "/c", "exit", "3"], timeout=10).exit_code == 3
    assert tls_server.requests, "nothing reached the server"


def test_basic_with_a_wrong_password_is_refused_over_https(tls_server):
    with (
        WinRMTransport(
            "standin",
            "127.0.0.1",
            port=tls_server.port,
            scheme="https",
            user=USER,
            password="not-it",
            options={**FAST, "auth": "basic", "ca_trust_path": str(tls_server.cert)},
        ) as basic,
        pytest.raises(TransportError, match="credentials were rejected"),
    ):
        basic.wait_ready(5)
