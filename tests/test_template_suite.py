"""The standard connector suite catches what it promises to catch."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub.sdk import (
    CredentialField,
    DeclaredLineage,
    InternalResource,
    Resource,
    SecodaIntegration,
)
from hub.testing import ConnectorSuite, TrackingCredentials, run_connector


class OkHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), OkHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


class Sloppy(SecodaIntegration):
    """Reads an undeclared key, leaves a lineage end dangling, ids change."""

    credential_fields = (CredentialField("base_url"), CredentialField("api_secret"))
    allowed_hosts = ("api.sloppy.test",)
    runs = 0

    def extract(self):
        type(self).runs += 1
        self.http_get(self.credentials["base_url"] + "/items")
        self.credentials.get("undeclared_key")
        self.declare_resource(
            Resource(entity_type="dashboard", databuilder_id=f"d{self.runs}")
        )
        self.declare_lineage(
            DeclaredLineage(
                from_identifier=InternalResource(databuilder_id=f"d{self.runs}"),
                to_identifier=InternalResource(databuilder_id="missing"),
            )
        )


class Wandering(Sloppy):
    """Calls a loopback host that is neither allowed nor the test server."""

    def extract(self):
        url = self.credentials["base_url"].replace("127.0.0.1", "localhost")
        self.http_get(url + "/items")


@pytest.fixture
def suite():
    class Checks(ConnectorSuite):
        connector = Sloppy

    return Checks()


def test_undeclared_read_fails(suite, server_url):
    run = run_connector(Sloppy, {"base_url": server_url, "api_secret": "x"})

    with pytest.raises(AssertionError, match="undeclared_key"):
        suite.test_reads_only_declared_fields(run)


def test_unread_field_fails(suite, server_url):
    run = run_connector(Sloppy, {"base_url": server_url, "api_secret": "x"})

    with pytest.raises(AssertionError, match="api_secret"):
        suite.test_declared_fields_are_read(run)


def test_secret_looking_field_fails(suite):
    with pytest.raises(AssertionError, match="api_secret"):
        suite.test_secret_looking_fields_are_secret()


def test_dangling_lineage_fails(suite, server_url):
    run = run_connector(Sloppy, {"base_url": server_url})

    with pytest.raises(AssertionError, match="missing"):
        suite.test_internal_lineage_ends_resolve(run)


def test_changing_ids_fail(suite, server_url):
    credentials = {"base_url": server_url}
    run = run_connector(Sloppy, credentials)

    with pytest.raises(AssertionError):
        suite.test_two_runs_give_same_ids(run, credentials)


def test_other_host_fails(suite, server_url):
    run = run_connector(Wandering, {"base_url": server_url})

    assert run.hosts == ["localhost"]
    with pytest.raises(AssertionError, match="localhost"):
        suite.test_requests_stay_on_allowed_hosts(run, server_url)


def test_tracking_records_each_access():
    tracked = TrackingCredentials({"a": "1", "b": "2"})
    tracked.get("a")
    _ = tracked["b"]
    _ = "c" in tracked

    assert tracked.read_keys == {"a", "b", "c"}
