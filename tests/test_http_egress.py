"""The egress allowlist rejects hosts before any connection is opened."""

import socket

import httpx
import pytest

from hub.errors import EgressDeniedError
from hub.sdk.egress import EgressPolicy, is_metadata_host, parse_entry
from hub.sdk.http import PooledNetworkStrategy


class ForbiddenTransport(httpx.BaseTransport):
    """A transport that records any call, which these tests must never make."""

    def __init__(self):
        self.calls = []

    def handle_request(self, request):
        self.calls.append(request.url)
        raise AssertionError(f"a connection to {request.url} was attempted")


def reject(url, allowed_hosts, **options):
    transport = ForbiddenTransport()
    strategy = PooledNetworkStrategy(
        allowed_hosts=allowed_hosts, transport=transport, **options
    )
    try:
        with pytest.raises(EgressDeniedError) as raised:
            strategy.make_request("GET", url)
    finally:
        strategy.finalize()
    return raised.value, transport.calls


def test_undeclared_host_rejected_unopened():
    error, calls = reject("http://undeclared.example.test/x", ["api.example.test"])

    assert calls == []
    assert "'undeclared.example.test'" in str(error)
    assert "allowlist" in str(error)


def test_undeclared_port_never_connected():
    # A real listener on 127.0.0.1 and the strategy's own transport: the
    # listener's accept queue stays empty when the request is rejected.
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        listener.settimeout(0.3)
        port = listener.getsockname()[1]
        strategy = PooledNetworkStrategy(allowed_hosts=["api.example.test"])
        try:
            with pytest.raises(EgressDeniedError) as raised:
                strategy.make_request("GET", f"http://127.0.0.1:{port}/")
        finally:
            strategy.finalize()

        with pytest.raises(TimeoutError):
            listener.accept()
    assert f"(port {port})" in str(raised.value)


def test_rejection_appends_allow_hint():
    error, _ = reject(
        "https://other.example.test/",
        ["api.example.test"],
        allow_hint=lambda host: f"run `hub allow {host}` to allow it",
    )

    assert str(error).endswith("run `hub allow other.example.test` to allow it")


def test_empty_allowlist_rejects_everything():
    _, calls = reject("http://127.0.0.1:9/", ())

    assert calls == []


def test_port_entry_rejects_other_port():
    _, calls = reject("http://api.example.test:8443/", ["api.example.test:443"])

    assert calls == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://2852039166/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.google.internal./computeMetadata/v1/",
    ],
    ids=[
        "ipv4",
        "ecs-credentials",
        "aws-ipv6",
        "ipv6-link-local",
        "ipv4-mapped",
        "decimal",
        "hex-dotted",
        "gcp-name",
        "gcp-name-trailing-dot",
    ],
)
def test_metadata_address_rejected(url):
    error, calls = reject(url, None)

    assert calls == []
    assert "metadata" in str(error)


def test_wildcard_does_not_allow_metadata():
    _, calls = reject("http://metadata.google.internal/", ["*.google.internal"])

    assert calls == []


def test_metadata_allowed_when_listed():
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    strategy = PooledNetworkStrategy(
        allowed_hosts=["169.254.169.254"], transport=transport
    )
    try:
        response = strategy.make_request("GET", "http://169.254.169.254/")
    finally:
        strategy.finalize()

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("entry", "url", "allowed"),
    [
        ("api.example.test", "https://api.example.test/a", True),
        ("api.example.test", "http://api.example.test:8080/a", True),
        ("API.Example.test", "https://api.example.test/a", True),
        ("api.example.test:8080", "http://api.example.test:8080/", True),
        ("api.example.test:8080", "http://api.example.test/", False),
        ("api.example.test:443", "https://api.example.test/", True),
        ("*.example.test", "https://eu.api.example.test/", True),
        ("*.example.test", "https://example.test/", False),
        ("*.example.test", "https://badexample.test/", False),
        ("[::1]:8080", "http://[::1]:8080/", True),
        ("127.0.0.1", "http://127.0.0.2/", False),
    ],
)
def test_allowlist_entry_matching(entry, url, allowed):
    policy = EgressPolicy([entry])

    if allowed:
        policy.check(httpx.URL(url))
    else:
        with pytest.raises(EgressDeniedError):
            policy.check(httpx.URL(url))


def test_non_http_scheme_rejected():
    policy = EgressPolicy(None)

    with pytest.raises(EgressDeniedError, match="'ftp'"):
        policy.check(httpx.URL("ftp://files.example.test/"))


@pytest.mark.parametrize(
    "entry", ["https://api.example.test", "api.example.test/path", "user@host"]
)
def test_invalid_entry_named(entry):
    with pytest.raises(ValueError, match="invalid"):
        parse_entry(entry)


def test_ordinary_hosts_not_metadata():
    assert not is_metadata_host("api.cluvio.com")
    assert not is_metadata_host("127.0.0.1")
    assert not is_metadata_host("10.0.0.1")


@pytest.mark.parametrize("entry", ["*.com", "*.localhost", "*.com:443", "*.com."])
def test_top_level_wildcard_rejected(entry):
    with pytest.raises(ValueError, match="at least two labels after"):
        parse_entry(entry)


@pytest.mark.parametrize("entry", ["*.example.com", "*.co.uk", "*.cluvio.com:443"])
def test_two_label_wildcard_accepted(entry):
    assert parse_entry(entry).wildcard
