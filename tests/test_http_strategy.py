"""The pooled network strategy against real HTTP servers on 127.0.0.1."""

import contextlib
import email.utils
import logging
import socket
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import serving
from hub.errors import EgressDeniedError, FatalHTTPError, RetriableHTTPError
from hub.sdk.http import DEFAULT_TIMEOUT
from hub.sdk.integration import SecodaIntegration
from hub.sdk.retry import RetryPolicy
from hub.sdk.strategies import NetworkCallStrategy

SECRET = "s3cret-token-value"


class ScriptedHandler(BaseHTTPRequestHandler):
    """Sends the server's scripted responses in order, then 200."""

    protocol_version = "HTTP/1.1"
    # Bounds how long a handler thread waits on an idle keep-alive connection.
    timeout = 5

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.received.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "client_port": self.client_address[1],
            }
        )
        script = self.server.script
        status, headers, body = script.popleft() if script else (200, {}, b"ok")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - base class signature
        pass


@contextlib.contextmanager
def scripted_server(*responses):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedHandler)
    server.script = deque(responses)
    server.received = []
    with serving(server):
        yield server


def url_of(server, path="/"):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def host_of(server):
    return f"127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def server():
    with scripted_server() as running:
        yield running


@pytest.fixture
def silent_listener():
    """A listening socket on 127.0.0.1 that never sends a response.

    The kernel completes the TCP handshake from its backlog, so a client
    connects and then waits for a response that never comes.
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=8)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        listener.close()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 with nothing listening, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class RecordingTransport(httpx.BaseTransport):
    """Passes each request to a real transport and keeps its timeout."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.timeouts = []

    def handle_request(self, request):
        self.timeouts.append(request.extensions["timeout"])
        return self.inner.handle_request(request)

    def close(self):
        self.inner.close()


class Connector(SecodaIntegration):
    def extract(self):
        pass


# Keep-alive and timeouts


def test_requests_share_one_connection(server, make_strategy):
    strategy = make_strategy()

    strategy.make_request("GET", url_of(server, "/a"))
    strategy.make_request("GET", url_of(server, "/b"))

    ports = {request["client_port"] for request in server.received}
    assert len(server.received) == 2
    assert len(ports) == 1


def test_default_timeout_applied(server, make_strategy):
    transport = RecordingTransport()
    strategy = make_strategy(transport=transport)

    strategy.make_request("GET", url_of(server))

    assert transport.timeouts == [DEFAULT_TIMEOUT.as_dict()]


def test_per_call_timeout_reaches_transport(server, make_strategy):
    transport = RecordingTransport()
    connector = Connector(
        credentials={}, network_call_strategy=make_strategy(transport=transport)
    )

    connector.http_get(url_of(server), timeout=3.0)

    assert transport.timeouts == [httpx.Timeout(3.0).as_dict()]


def test_silent_listener_times_out(silent_listener, make_strategy):
    strategy = make_strategy(
        timeout=httpx.Timeout(0.5), retry=RetryPolicy(max_attempts=1)
    )

    with pytest.raises(RetriableHTTPError) as raised:
        strategy.make_request("GET", silent_listener)

    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
    assert "ReadTimeout" in str(raised.value)


def test_secodadk_strategy_without_timeout(server):
    class ScriptStrategy(NetworkCallStrategy):
        """A strategy with the secodadk signature, which has no timeout."""

        def make_request(
            self,
            method,
            url,
            *,
            params=None,
            headers=None,
            data=None,
            json=None,
            verify=True,
            follow_redirects=False,
            auth=None,
        ):
            return httpx.request(method, url, params=params, headers=headers)

    connector = Connector(credentials={}, network_call_strategy=ScriptStrategy())

    assert connector.http_get(url_of(server)).status_code == 200


# Retries


def test_retry_after_seconds_then_success(make_strategy, sleeps):
    busy = (429, {"Retry-After": "2"}, b"slow down")
    strategy = make_strategy()
    with scripted_server(busy, busy, busy) as server:
        response = strategy.make_request("GET", url_of(server))

    assert response.status_code == 200
    assert sleeps == [2.0, 2.0, 2.0]
    assert len(server.received) == 4
    assert strategy.stats.retries == 3
    assert strategy.stats.requests == 4


def test_retry_after_http_date(make_strategy, sleeps):
    current = 1_800_000_000.0
    header = email.utils.formatdate(current + 30, usegmt=True)
    strategy = make_strategy(now=lambda: current)
    with scripted_server((503, {"Retry-After": header}, b"")) as server:
        response = strategy.make_request("GET", url_of(server))

    assert response.status_code == 200
    assert sleeps == [30.0]


def test_retry_after_capped(make_strategy, sleeps):
    strategy = make_strategy(retry=RetryPolicy(retry_after_max=45.0))
    with scripted_server((429, {"Retry-After": "86400"}, b"")) as server:
        strategy.make_request("GET", url_of(server))

    assert sleeps == [45.0]


def test_backoff_doubles_without_header(make_strategy, sleeps):
    strategy = make_strategy(retry=RetryPolicy(jitter=0.0, backoff_base=0.5))
    failures = [(status, {}, b"") for status in (502, 503, 504)]
    with scripted_server(*failures) as server:
        response = strategy.make_request("GET", url_of(server))

    assert response.status_code == 200
    assert sleeps == [0.5, 1.0, 2.0]


def test_jitter_shortens_waits(make_strategy, sleeps):
    policy = RetryPolicy(jitter=0.5, backoff_base=1.0)
    strategy = make_strategy(retry=policy)
    with scripted_server(*[(503, {}, b"")] * 4) as server:
        strategy.make_request("GET", url_of(server))

    for retry, wait in enumerate(sleeps, start=1):
        full = 2.0 ** (retry - 1)
        assert full * 0.5 <= wait <= full


def test_exhausted_status_returns_last_response(make_strategy, sleeps):
    strategy = make_strategy(retry=RetryPolicy(max_attempts=3))
    with scripted_server(*[(503, {"Retry-After": "1"}, b"down")] * 5) as server:
        response = strategy.make_request("GET", url_of(server))

    assert response.status_code == 503
    assert len(server.received) == 3
    assert sleeps == [1.0, 1.0]


def test_other_errors_not_retried(make_strategy, sleeps):
    strategy = make_strategy()
    with scripted_server((500, {}, b""), (404, {}, b"")) as server:
        first = strategy.make_request("GET", url_of(server))
        second = strategy.make_request("GET", url_of(server))

    assert first.status_code == 500
    assert second.status_code == 404
    assert sleeps == []


def test_post_not_retried_after_503(make_strategy, sleeps):
    strategy = make_strategy()
    with scripted_server((503, {"Retry-After": "1"}, b"")) as server:
        response = strategy.make_request("POST", url_of(server), json={"a": 1})

    assert response.status_code == 503
    assert len(server.received) == 1
    assert sleeps == []


def test_post_retried_after_connect_error(closed_port, make_strategy, sleeps):
    strategy = make_strategy(retry=RetryPolicy(max_attempts=3, jitter=0.0))

    with pytest.raises(RetriableHTTPError) as raised:
        strategy.make_request("POST", closed_port, json={"a": 1})

    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert "3 attempt(s)" in str(raised.value)
    assert strategy.stats.requests == 3
    assert sleeps == [0.5, 1.0]


def test_post_not_retried_after_read_timeout(silent_listener, make_strategy, sleeps):
    strategy = make_strategy(timeout=httpx.Timeout(0.5))

    with pytest.raises(RetriableHTTPError, match="was not retried"):
        strategy.make_request("POST", silent_listener, json={"a": 1})

    assert sleeps == []
    assert strategy.stats.requests == 1


def test_retry_logged_at_info(make_strategy, caplog):
    strategy = make_strategy()
    with scripted_server((429, {"Retry-After": "3"}, b"")) as server:
        with caplog.at_level(logging.INFO, logger="hub.sdk.http"):
            strategy.make_request("GET", url_of(server, "/?token=abc"))

    retries = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(retries) == 1
    message = retries[0].getMessage()
    assert "GET" in message
    assert "127.0.0.1" in message
    assert "3.00 s" in message
    assert "abc" not in message


def test_invalid_policy_rejected():
    with pytest.raises(ValueError, match="max_attempts=0"):
        RetryPolicy(max_attempts=0)


# Redirects


def test_cross_origin_redirect_strips_credentials(make_strategy):
    strategy = make_strategy(secrets=[SECRET])
    headers = {
        "Authorization": f"Bearer {SECRET}",
        "token": SECRET,
        "X-Api-Key": "another-key",
        "Cookie": "session=1",
        "Accept": "application/json",
        "User-Agent": f"connector/1.0 {SECRET}",
    }
    with scripted_server() as target:
        moved = (302, {"Location": url_of(target, "/landing")}, b"")
        with scripted_server(moved) as origin:
            response = strategy.make_request(
                "GET", url_of(origin), headers=headers, follow_redirects=True
            )

    received = target.received[0]["headers"]
    assert response.status_code == 200
    assert target.received[0]["path"] == "/landing"
    assert "authorization" not in received
    assert "token" not in received
    assert "x-api-key" not in received
    assert "cookie" not in received
    assert SECRET not in received.get("user-agent", "")
    assert received["accept"] == "application/json"


def test_cross_origin_redirect_drops_basic_auth(make_strategy):
    strategy = make_strategy()
    with scripted_server() as target:
        moved = (307, {"Location": url_of(target)}, b"")
        with scripted_server(moved) as origin:
            strategy.make_request(
                "GET",
                url_of(origin),
                auth=httpx.BasicAuth("user", "password"),
                follow_redirects=True,
            )

    assert "authorization" in origin.received[0]["headers"]
    assert "authorization" not in target.received[0]["headers"]


def test_same_origin_redirect_keeps_headers(server, make_strategy):
    server.script.append((301, {"Location": "/next"}, b""))
    strategy = make_strategy(secrets=[SECRET])

    strategy.make_request(
        "GET", url_of(server), headers={"token": SECRET}, follow_redirects=True
    )

    assert server.received[1]["path"] == "/next"
    assert server.received[1]["headers"]["token"] == SECRET


def test_redirect_not_followed_by_default(server, make_strategy):
    server.script.append((302, {"Location": "/next"}, b""))
    strategy = make_strategy()

    response = strategy.make_request("GET", url_of(server))

    assert response.status_code == 302
    assert len(server.received) == 1


def test_redirect_to_undeclared_host_rejected(server, make_strategy):
    server.script.append((302, {"Location": "http://elsewhere.example.test/"}, b""))
    strategy = make_strategy(allowed_hosts=[host_of(server)])

    with pytest.raises(EgressDeniedError, match="elsewhere.example.test"):
        strategy.make_request("GET", url_of(server), follow_redirects=True)


def test_redirect_loop_hits_hop_limit(server, make_strategy):
    server.script.extend([(302, {"Location": "/again"}, b"")] * 4)
    strategy = make_strategy(max_redirects=3)

    with pytest.raises(FatalHTTPError, match="more than 3 times"):
        strategy.make_request("GET", url_of(server), follow_redirects=True)

    assert len(server.received) == 4


def test_see_other_turns_post_into_get(server, make_strategy):
    server.script.append((303, {"Location": "/result"}, b""))
    strategy = make_strategy()

    strategy.make_request("POST", url_of(server), json={"a": 1}, follow_redirects=True)

    assert server.received[1]["method"] == "GET"
    assert "content-length" not in server.received[1]["headers"]


def test_temporary_redirect_keeps_post(server, make_strategy):
    server.script.append((307, {"Location": "/retry-here"}, b""))
    strategy = make_strategy()

    strategy.make_request("POST", url_of(server), json={"a": 1}, follow_redirects=True)

    assert server.received[1]["method"] == "POST"
    assert server.received[1]["headers"]["content-type"] == "application/json"


# Logging and statistics


def test_debug_log_masks_secret_query(server, make_strategy, caplog):
    strategy = make_strategy(secrets=[SECRET])
    url = url_of(server, f"/items?api_token=plain123&q=visible&x={SECRET}")

    with caplog.at_level(logging.DEBUG, logger="hub.sdk.http"):
        strategy.make_request("GET", url, headers={"X-Custom": "header-value-77"})

    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(lines) == 1
    assert "plain123" not in lines[0]
    assert SECRET not in lines[0]
    assert "header-value-77" not in lines[0]
    assert "q=visible" in lines[0]
    assert "-> 200 in" in lines[0]
    assert lines[0].startswith("GET http://127.0.0.1:")


def test_debug_log_masks_path_secret(server, make_strategy, caplog):
    strategy = make_strategy(secrets=[SECRET])

    with caplog.at_level(logging.DEBUG, logger="hub.sdk.http"):
        strategy.make_request("GET", url_of(server, f"/keys/{SECRET}/items"))

    assert SECRET not in caplog.text
    assert "/keys/[redacted]/items" in caplog.text


def test_stats_count_bytes(server, make_strategy):
    server.script.append((200, {}, b"x" * 100))
    strategy = make_strategy()

    strategy.make_request("GET", url_of(server))

    stats = strategy.stats.as_dict()
    assert stats["requests"] == 1
    assert stats["retries"] == 0
    assert stats["bytes_received"] == 100


def test_response_cookies_not_stored(server, make_strategy):
    server.script.append((200, {"Set-Cookie": "session=abc; Path=/"}, b""))
    strategy = make_strategy()

    strategy.make_request("GET", url_of(server))
    strategy.make_request("GET", url_of(server))

    assert "cookie" not in server.received[1]["headers"]
