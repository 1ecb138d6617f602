"""Host names are checked again after DNS, on the hub's own transport.

The resolver is injected where a test needs a name to resolve to a chosen
address, because this machine's DNS cannot be changed. Every connection that
is opened goes to a server or listener on the loopback interface.
"""

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import serving
from hub.errors import EgressDeniedError, RetriableHTTPError
from hub.sdk.egress import EgressPolicy
from hub.sdk.retry import RetryPolicy


class HostEchoHandler(BaseHTTPRequestHandler):
    """Records the Host header of each request and responds with 200."""

    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_GET(self):
        self.server.hosts.append(self.headers.get("Host"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):  # noqa: A002 - base class signature
        pass


@pytest.fixture
def server():
    running = ThreadingHTTPServer(("127.0.0.1", 0), HostEchoHandler)
    running.hosts = []
    with serving(running):
        yield running


@pytest.fixture
def listener():
    """A loopback socket whose accept queue shows whether anyone connected."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=8)
    sock.settimeout(0.3)
    yield sock
    sock.close()


def assert_nobody_connected(listener):
    with pytest.raises(TimeoutError):
        listener.accept()


def resolver_of(table, calls=None):
    def resolve(host, port):
        if calls is not None:
            calls.append((host, port))
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "addresses",
    [
        ["169.254.169.254"],
        ["fd00:ec2::254"],
        ["fe80::1%1"],
        # One metadata address among others rejects the host, since a later
        # lookup could return it first.
        ["127.0.0.1", "169.254.169.254"],
    ],
    ids=["aws-ipv4", "aws-ipv6", "link-local-scoped", "mixed"],
)
def test_name_resolving_to_metadata_rejected(addresses, listener, make_strategy):
    port = listener.getsockname()[1]
    strategy = make_strategy(resolve=resolver_of({"rebind.example.test": addresses}))

    with pytest.raises(EgressDeniedError) as raised:
        strategy.make_request("GET", f"http://rebind.example.test:{port}/")

    message = str(raised.value)
    assert "'rebind.example.test'" in message
    assert "metadata" in message
    assert_nobody_connected(listener)
    assert strategy.stats.retries == 0


def test_rejection_after_dns_names_address(make_strategy):
    strategy = make_strategy(
        allowed_hosts=["*.example.test"],
        resolve=resolver_of({"rebind.example.test": ["169.254.170.2"]}),
        allow_hint=lambda host: f"allow {host} with --allow-host",
    )

    with pytest.raises(EgressDeniedError) as raised:
        strategy.make_request("GET", "http://rebind.example.test/")

    assert "resolves to 169.254.170.2" in str(raised.value)
    assert str(raised.value).endswith("allow rebind.example.test with --allow-host")


@pytest.mark.parametrize(
    "entry", ["proxy.example.test", "169.254.169.254"], ids=["host", "address"]
)
def test_exact_entry_allows_resolved_metadata(entry):
    policy = EgressPolicy([entry, "*.example.test"])

    policy.check_resolved("proxy.example.test", 80, ["169.254.169.254"])


def test_wildcard_does_not_allow_resolved_metadata():
    policy = EgressPolicy(["*.example.test"])

    with pytest.raises(EgressDeniedError):
        policy.check_resolved("proxy.example.test", 80, ["169.254.169.254"])


def test_resolved_address_is_connected(server, make_strategy):
    port = server.server_address[1]
    calls = []
    strategy = make_strategy(
        allowed_hosts=["api.example.test"],
        resolve=resolver_of({"api.example.test": ["127.0.0.1"]}, calls),
    )

    first = strategy.make_request("GET", f"http://api.example.test:{port}/a")
    second = strategy.make_request("GET", f"http://api.example.test:{port}/b")

    assert first.status_code == 200
    assert second.status_code == 200
    assert server.hosts == [f"api.example.test:{port}"] * 2
    # The second request reused the pooled connection, so one lookup was made.
    assert calls == [("api.example.test", port)]


def test_next_address_tried_after_refusal(server, make_strategy):
    port = server.server_address[1]
    # Nothing listens on 127.0.0.2 at that port, so the first connection is refused.
    resolve = resolver_of({"api.example.test": ["127.0.0.2", "127.0.0.1"]})
    strategy = make_strategy(resolve=resolve)

    response = strategy.make_request("GET", f"http://api.example.test:{port}/")

    assert response.status_code == 200
    assert len(server.hosts) == 1


def test_failed_lookup_is_retried_connect_error(make_strategy):
    lookups = []

    def fail(host, port):
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    strategy = make_strategy(resolve=fail, retry=RetryPolicy(max_attempts=2))

    with pytest.raises(RetriableHTTPError) as raised:
        strategy.make_request("POST", "http://missing.example.test/", json={})

    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert "DNS lookup of 'missing.example.test' failed" in str(raised.value)
    assert lookups == ["missing.example.test"] * 2


def test_literal_address_skips_lookup(server, make_strategy):
    def must_not_resolve(host, port):
        raise AssertionError(f"{host} was looked up")

    strategy = make_strategy(resolve=must_not_resolve)

    response = strategy.make_request(
        "GET", f"http://127.0.0.1:{server.server_address[1]}/"
    )

    assert response.status_code == 200


def test_system_resolver_reaches_localhost(server, make_strategy):
    strategy = make_strategy(allowed_hosts=["localhost"])

    response = strategy.make_request(
        "GET", f"http://localhost:{server.server_address[1]}/"
    )

    assert response.status_code == 200
    assert len(server.hosts) == 1
