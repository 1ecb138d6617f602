"""HTTPS on 127.0.0.1: a CA file as ``verify=``, and an https-to-http redirect.

The server speaks TLS and plain HTTP on one port, so a redirect can change the
scheme alone, with the host and the port unchanged.
"""

import datetime
import ipaddress
import socket
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import serving
from hub.errors import FatalHTTPError
from hub.sdk.http import PooledNetworkStrategy

SECRET = "tls-test-secret-token"

# The first byte of a TLS ClientHello record.
TLS_HANDSHAKE = b"\x16"


def write_certificate(directory):
    """Write a self-signed certificate for 127.0.0.1 and return both paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub test server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class DualProtocolServer(ThreadingHTTPServer):
    """Serves TLS to clients that open with a handshake, plain HTTP to others."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext):
        self.context = context
        self.received = []
        self.script = []
        super().__init__(("127.0.0.1", 0), RecordingHandler)

    def get_request(self):
        connection, address = super().get_request()
        connection.settimeout(5)
        if connection.recv(1, socket.MSG_PEEK) == TLS_HANDSHAKE:
            connection = self.context.wrap_socket(connection, server_side=True)
        return connection, address


class RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_GET(self):
        self.server.received.append(
            {
                "tls": isinstance(self.connection, ssl.SSLSocket),
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        )
        status, headers = self.server.script.pop(0) if self.server.script else (200, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002 - base class signature
        pass


@pytest.fixture
def certificate(tmp_path):
    return write_certificate(tmp_path)


@pytest.fixture
def server(certificate):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    with serving(DualProtocolServer(context)) as running:
        yield running


@pytest.fixture
def strategy():
    built = PooledNetworkStrategy(
        allowed_hosts=["127.0.0.1"], secrets=[SECRET], sleep=lambda seconds: None
    )
    yield built
    built.finalize()


def test_ca_file_verifies_server(server, certificate, strategy):
    port = server.server_address[1]

    response = strategy.make_request(
        "GET", f"https://127.0.0.1:{port}/", verify=str(certificate[0])
    )

    assert response.status_code == 200
    assert server.received[0]["tls"] is True


def test_unknown_certificate_fails_once(server, strategy):
    port = server.server_address[1]

    with pytest.raises(FatalHTTPError) as raised:
        strategy.make_request("GET", f"https://127.0.0.1:{port}/")

    message = str(raised.value)
    assert "certificate of '127.0.0.1' failed verification" in message
    assert "verify='/path/to/ca.pem'" in message
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert strategy.stats.requests == 1
    assert strategy.stats.retries == 0


def test_https_to_http_redirect_drops_credentials(server, certificate, strategy):
    port = server.server_address[1]
    server.script.append((302, {"Location": f"http://127.0.0.1:{port}/landing"}))

    response = strategy.make_request(
        "GET",
        f"https://127.0.0.1:{port}/start",
        headers={
            "Authorization": f"Bearer {SECRET}",
            "token": SECRET,
            "Accept": "application/json",
        },
        verify=str(certificate[0]),
        follow_redirects=True,
    )

    first, second = server.received
    assert response.status_code == 200
    assert first["tls"] is True
    assert first["headers"]["token"] == SECRET
    assert second["tls"] is False
    assert second["path"] == "/landing"
    assert "authorization" not in second["headers"]
    assert "token" not in second["headers"]
    assert second["headers"]["accept"] == "application/json"


def test_same_origin_https_redirect_keeps_token(server, certificate, strategy):
    port = server.server_address[1]
    server.script.append((302, {"Location": "/landing"}))

    strategy.make_request(
        "GET",
        f"https://127.0.0.1:{port}/start",
        headers={"token": SECRET},
        verify=str(certificate[0]),
        follow_redirects=True,
    )

    second = server.received[1]
    assert second["tls"] is True
    assert second["headers"]["token"] == SECRET
