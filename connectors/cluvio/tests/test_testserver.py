"""Tests for the Cluvio test server, run against a real server on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from secoda_connector_cluvio.testserver import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    CluvioTestServer,
    generate_account,
)

EMAIL = "analyst@example.com"
PASSWORD = "correct-horse-battery"

ID_PATTERN = re.compile(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}")

# A Cluvio filter parameter: a condition, transformation or value in curly braces.
FILTER_PARAMETER_PATTERN = re.compile(r"\{[^{}\s][^{}]*[=:.][^{}]*\}")

# A subquery in a FROM clause, a comparison or an EXISTS test (CTEs excluded).
SUBQUERY_PATTERN = re.compile(r"(FROM|=|EXISTS) \(\s*SELECT")

SOURCE_DIR = Path(__file__).resolve().parents[1] / "src"

# Upper bounds for waiting on the command-line server, in seconds.
CLI_START_TIMEOUT = 15.0
CLI_STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def account():
    return generate_account(8, reports_per_dashboard=5, datasources=3, seed=7)


@pytest.fixture(scope="module")
def server(account):
    with CluvioTestServer(account, email=EMAIL, password=PASSWORD) as running:
        yield running


@pytest.fixture(scope="module")
def token(server):
    status, document = request_json(
        server.port, "POST", "/users/sign_in", body=credentials()
    )
    assert status == 200
    return document["token"]


def credentials(email: str = EMAIL, password: str = PASSWORD) -> bytes:
    return json.dumps({"user": {"email": email, "password": password}}).encode()


def request_json(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    token: str | None = None,
) -> tuple[int, object]:
    """Send one request on a new connection and return the status and parsed body."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["token"] = token

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def urllib_post(url: str, body: bytes):
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    return urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT)


# --------------------------------------------------------------------------------------
# Sign-in and tokens
# --------------------------------------------------------------------------------------


def test_sign_in_returns_token(server):
    with urllib_post(server.url + "/users/sign_in", credentials()) as response:
        status = response.status
        document = json.loads(response.read())

    assert status == 200
    assert isinstance(document["token"], str)
    assert len(document["token"]) >= 32


def test_sign_in_tokens_differ(server):
    _, first = request_json(server.port, "POST", "/users/sign_in", body=credentials())
    _, second = request_json(server.port, "POST", "/users/sign_in", body=credentials())

    assert first["token"] != second["token"]


def test_sign_in_wrong_password_401(server):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib_post(server.url + "/users/sign_in", credentials(password="wrong"))

    error = raised.value
    document = json.loads(error.read())
    error.close()
    assert error.code == 401
    assert document["errors"][0]["status"] == "401"


def test_sign_in_unknown_email_401(server):
    status, _ = request_json(
        server.port,
        "POST",
        "/users/sign_in",
        body=credentials(email="nobody@example.com"),
    )

    assert status == 401


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"email": "a", "password": "b"}', b'{"user": {"email": 1}}'],
)
def test_sign_in_malformed_body_400(server, body):
    status, document = request_json(server.port, "POST", "/users/sign_in", body=body)

    assert status == 400
    assert document["errors"][0]["status"] == "400"


@pytest.mark.parametrize(
    ("content_length", "expected_status"), [("100000", 413), ("-5", 400), ("ten", 400)]
)
def test_sign_in_bad_length_rejected(server, content_length, expected_status):
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=REQUEST_TIMEOUT
    )
    try:
        # The body is never sent, so the server must respond from the headers alone.
        connection.putrequest("POST", "/users/sign_in")
        connection.putheader("Content-Length", content_length)
        connection.endheaders()
        response = connection.getresponse()
        document = json.loads(response.read())
    finally:
        connection.close()

    assert response.status == expected_status
    assert document["errors"][0]["status"] == str(expected_status)
    assert response.getheader("Connection") == "close"


def test_get_without_token_401(server):
    status, document = request_json(server.port, "GET", "/dashboards")

    assert status == 401
    assert document["errors"][0]["status"] == "401"


def test_get_with_invalid_token_401(server):
    status, _ = request_json(server.port, "GET", "/dashboards", token="not-a-token")

    assert status == 401


def test_detail_without_token_401(server, account):
    path = f"/dashboards/{account.dashboards[0].id}"
    status, _ = request_json(server.port, "GET", path)

    assert status == 401


# --------------------------------------------------------------------------------------
# Dashboards, reports and datasources
# --------------------------------------------------------------------------------------


def test_dashboards_list_shape(server, account, token):
    status, document = request_json(server.port, "GET", "/dashboards", token=token)

    assert status == 200
    items = document["data"]
    assert [item["id"] for item in items] == [d.id for d in account.dashboards]
    for item in items:
        assert item["type"] == "dashboards"
        attributes = item["attributes"]
        assert isinstance(attributes["name"], str)
        assert attributes["name"]
        assert "description" in attributes
        updated_at = datetime.fromisoformat(attributes["updated_at"])
        assert updated_at.utcoffset() is not None


def test_descriptions_include_null_and_empty():
    descriptions = [d.description for d in generate_account(60, seed=3).dashboards]

    assert None in descriptions
    assert "" in descriptions
    assert any(description for description in descriptions)


@pytest.mark.parametrize("collection", ["/dashboards", "/datasources"])
def test_collection_trailing_slash_accepted(server, token, collection):
    plain_status, plain = request_json(server.port, "GET", collection, token=token)
    slash_status, slash = request_json(
        server.port, "GET", collection + "/", token=token
    )

    assert plain_status == 200
    assert slash_status == 200
    assert slash == plain


def test_query_string_ignored(server, account, token):
    status, document = request_json(
        server.port, "GET", "/dashboards?page=2", token=token
    )

    assert status == 200
    assert len(document["data"]) == account.dashboard_count


def test_dashboard_detail_includes_reports(server, account, token):
    datasource_ids = {d.id for d in account.datasources}
    for dashboard in account.dashboards:
        path = f"/dashboards/{dashboard.id}"
        status, document = request_json(server.port, "GET", path, token=token)

        assert status == 200
        data = document["data"]
        assert data["id"] == dashboard.id
        assert data["type"] == "dashboards"
        assert data["attributes"]["name"] == dashboard.name

        references = data["relationships"]["reports"]["data"]
        included = document["included"]
        assert [r["id"] for r in references] == list(dashboard.report_ids)
        assert all(r["type"] == "reports" for r in references)
        assert [r["id"] for r in included] == [r["id"] for r in references]

        for report in included:
            assert report["type"] == "reports"
            assert isinstance(report["attributes"]["name"], str)
            assert report["attributes"]["query"].strip()
            assert datetime.fromisoformat(report["attributes"]["updated_at"])
            relationships = report["relationships"]
            assert relationships["dashboard"]["data"] == {
                "id": dashboard.id,
                "type": "dashboards",
            }
            assert relationships["datasource"]["data"]["type"] == "datasources"
            assert relationships["datasource"]["data"]["id"] in datasource_ids


def test_report_query_matches_account(server, account, token):
    dashboard = account.dashboards[0]
    expected = {
        r.id: r.query for r in account.reports if r.dashboard_id == dashboard.id
    }
    _, document = request_json(
        server.port, "GET", f"/dashboards/{dashboard.id}", token=token
    )

    served = {r["id"]: r["attributes"]["query"] for r in document["included"]}
    assert served == expected


def test_unknown_dashboard_id_404(server, token):
    status, document = request_json(
        server.port, "GET", "/dashboards/zzzz-zzzz-zzzz", token=token
    )

    assert status == 404
    assert document["errors"][0]["status"] == "404"
    assert "zzzz-zzzz-zzzz" in document["errors"][0]["detail"]


def test_unknown_datasource_id_404(server, token):
    status, _ = request_json(
        server.port, "GET", "/datasources/zzzz-zzzz-zzzz", token=token
    )

    assert status == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/reports"),
        ("GET", "/"),
        ("GET", "/users/sign_in"),
        ("POST", "/dashboards"),
    ],
)
def test_unknown_path_404(server, token, method, path):
    status, document = request_json(server.port, method, path, body=b"{}", token=token)

    assert status == 404
    assert document["errors"][0]["status"] == "404"


def test_datasources_list_and_detail(server, account, token):
    status, listing = request_json(server.port, "GET", "/datasources", token=token)

    assert status == 200
    assert [item["id"] for item in listing["data"]] == [
        d.id for d in account.datasources
    ]
    for item in listing["data"]:
        assert item["type"] == "datasources"
        assert item["attributes"]["name"]

        path = f"/datasources/{item['id']}"
        detail_status, detail = request_json(server.port, "GET", path, token=token)
        assert detail_status == 200
        assert detail["data"] == item


# --------------------------------------------------------------------------------------
# Generated account
# --------------------------------------------------------------------------------------


def test_ids_match_group_pattern():
    generated = generate_account(30, seed=11)
    ids = [d.id for d in generated.dashboards]
    ids += [r.id for r in generated.reports]
    ids += [d.id for d in generated.datasources]

    for object_id in ids:
        assert ID_PATTERN.fullmatch(object_id), object_id
    assert len(set(ids)) == len(ids)


def test_same_seed_same_account():
    first = generate_account(12, seed=42)
    second = generate_account(12, seed=42)

    assert first == second


def test_different_seed_different_account():
    first = generate_account(12, seed=42)
    second = generate_account(12, seed=43)

    assert [d.id for d in first.dashboards] != [d.id for d in second.dashboards]
    assert [r.query for r in first.reports] != [r.query for r in second.reports]


@pytest.mark.parametrize(
    ("dashboards", "mean", "seed"),
    [(0, 6, 0), (1, 6, 0), (25, 6, 0), (25, 6, 9), (7, 1, 2), (10, 0, 0), (40, 11, 5)],
)
def test_report_total_is_exact(dashboards, mean, seed):
    generated = generate_account(dashboards, reports_per_dashboard=mean, seed=seed)

    assert generated.dashboard_count == dashboards
    assert generated.report_count == dashboards * mean
    for dashboard in generated.dashboards:
        assert mean / 2 <= len(dashboard.report_ids) <= mean * 1.5


def test_report_counts_vary():
    generated = generate_account(25, reports_per_dashboard=6, seed=0)

    counts = {len(d.report_ids) for d in generated.dashboards}
    assert len(counts) > 1


def test_report_links_are_consistent():
    generated = generate_account(20, seed=4)
    datasource_ids = {d.id for d in generated.datasources}
    reports_by_id = {r.id: r for r in generated.reports}

    for dashboard in generated.dashboards:
        for report_id in dashboard.report_ids:
            assert reports_by_id[report_id].dashboard_id == dashboard.id
    for report in generated.reports:
        assert report.datasource_id in datasource_ids


def test_report_sql_uses_filter_parameters():
    queries = [r.query for r in generated_reports()]
    with_filters = [q for q in queries if FILTER_PARAMETER_PATTERN.search(q)]

    assert len(with_filters) > len(queries) * 0.6
    assert len(with_filters) < len(queries)
    assert any("=timerange}" in q for q in queries)
    assert any(":aggregation}" in q for q in queries)
    assert any(".start}" in q for q in queries)
    assert any("{[" in q for q in queries)


def test_report_sql_covers_table_styles():
    reports = generated_reports()
    queries = [r.query for r in reports]
    dot_counts = {t.count(".") for r in reports for t in r.referenced_tables}

    assert dot_counts == {0, 1, 2}
    assert any(q.startswith("WITH ") for q in queries)
    assert any(" JOIN " in q for q in queries)
    assert any(SUBQUERY_PATTERN.search(q) for q in queries)
    assert any('FROM "' in q for q in queries)


def test_report_names_unique_per_dashboard():
    generated = generate_account(30, reports_per_dashboard=12, seed=8)
    names_by_dashboard: dict[str, list[str]] = {}
    for report in generated.reports:
        names_by_dashboard.setdefault(report.dashboard_id, []).append(report.name)

    for names in names_by_dashboard.values():
        assert len(set(names)) == len(names)


def test_invalid_counts_rejected():
    with pytest.raises(ValueError, match="dashboards"):
        generate_account(-1)
    with pytest.raises(ValueError, match="reports_per_dashboard"):
        generate_account(1, reports_per_dashboard=-2)
    with pytest.raises(ValueError, match="datasources"):
        generate_account(1, datasources=0)


def generated_reports():
    return generate_account(40, reports_per_dashboard=6, seed=1).reports


# --------------------------------------------------------------------------------------
# Server lifecycle
# --------------------------------------------------------------------------------------


def test_keep_alive_reuses_connection(server, account):
    server.reset_counts()
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=REQUEST_TIMEOUT
    )
    try:
        connection.request("POST", "/users/sign_in", body=credentials())
        response = connection.getresponse()
        token = json.loads(response.read())["token"]
        first_socket = connection.sock

        assert response.status == 200
        assert first_socket is not None
        for index in range(20):
            dashboard = account.dashboards[index % len(account.dashboards)]
            connection.request(
                "GET", f"/dashboards/{dashboard.id}", headers={"token": token}
            )
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert connection.sock is first_socket
    finally:
        connection.close()

    assert server.request_count == 21
    assert server.connection_count == 1


def test_large_keep_alive_responses_not_delayed():
    # A listing of 200 dashboards is about 40 KB, so it leaves in several
    # writes. With Nagle's algorithm on, the server sends the last segment
    # only after the client's delayed ACK, about 40 ms later on every request
    # of a kept-alive connection. With TCP_NODELAY each request takes about a
    # millisecond.
    large = generate_account(200, seed=1)
    with CluvioTestServer(large, email=EMAIL, password=PASSWORD) as running:
        connection = http.client.HTTPConnection(
            "127.0.0.1", running.port, timeout=REQUEST_TIMEOUT
        )
        try:
            connection.request("POST", "/users/sign_in", body=credentials())
            token = json.loads(connection.getresponse().read())["token"]
            durations = []
            for _ in range(20):
                started = time.perf_counter()
                connection.request("GET", "/dashboards", headers={"token": token})
                body = connection.getresponse().read()
                durations.append(time.perf_counter() - started)
        finally:
            connection.close()

    assert len(body) > 16 * 1024
    assert sorted(durations)[len(durations) // 2] < 0.02
    assert running.connection_count == 1


def test_response_headers_complete(server, token):
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=REQUEST_TIMEOUT
    )
    try:
        connection.request("GET", "/dashboards", headers={"token": token})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.version == 11
    assert response.getheader("Content-Type") == "application/json"
    assert int(response.getheader("Content-Length")) == len(body)


def test_request_count_and_reset(server, token):
    server.reset_counts()

    assert server.request_count == 0
    assert server.connection_count == 0
    request_json(server.port, "GET", "/dashboards", token=token)
    request_json(server.port, "GET", "/dashboards", token=token)
    request_json(server.port, "GET", "/datasources", token=token)
    assert server.request_count == 3
    # request_json opens a new connection for every request.
    assert server.connection_count == 3
    assert server.requests_by_path == {"GET /dashboards": 2, "GET /datasources": 1}

    server.reset_counts()
    assert server.request_count == 0
    assert server.connection_count == 0
    assert server.requests_by_path == {}


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "192.0.2.10", "::", "example.com", "", "127.0.0.1.example"]
)
def test_non_loopback_host_rejected(account, host):
    with pytest.raises(ValueError) as raised:
        CluvioTestServer(account, email=EMAIL, password=PASSWORD, host=host)

    assert repr(host) in str(raised.value)


def test_localhost_binds_loopback(account):
    with CluvioTestServer(
        account, email=EMAIL, password=PASSWORD, host="localhost"
    ) as running:
        url = running.url
        status, _ = request_json(running.port, "GET", "/dashboards")

    assert url.startswith("http://127.0.0.1:")
    assert status == 401


def test_invalid_port_rejected(account):
    with pytest.raises(ValueError, match="70000"):
        CluvioTestServer(account, email=EMAIL, password=PASSWORD, port=70000)


def test_url_before_start_raises(account):
    idle = CluvioTestServer(account, email=EMAIL, password=PASSWORD)

    with pytest.raises(RuntimeError, match="not running"):
        _ = idle.url


def test_start_twice_raises(account):
    with CluvioTestServer(account, email=EMAIL, password=PASSWORD) as running:
        with pytest.raises(RuntimeError, match="already running"):
            running.start()


def test_stop_closes_all_connections(account):
    running = CluvioTestServer(account, email=EMAIL, password=PASSWORD).start()
    port = running.port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", "/dashboards")
        first = connection.getresponse()
        first.read()
        assert first.status == 401

        running.stop()

        # The open keep-alive connection was shut down by stop().
        with pytest.raises((OSError, http.client.HTTPException)):
            connection.request("GET", "/dashboards")
            connection.getresponse().read()
    finally:
        connection.close()
        running.stop()

    with pytest.raises(ConnectionRefusedError):
        request_json(port, "GET", "/dashboards")


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def cli_environment() -> dict[str, str]:
    # Keep any existing PYTHONPATH, because the package's __init__ may import
    # modules that are found through it.
    paths = [str(SOURCE_DIR)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def wait_for_port_file(path: Path, process: subprocess.Popen) -> int:
    """Poll for the port file, bounded by CLI_START_TIMEOUT, and return the port."""
    deadline = time.monotonic() + CLI_START_TIMEOUT
    for _ in range(int(CLI_START_TIMEOUT / 0.05)):
        if path.exists():
            return int(path.read_text())
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    pytest.fail(f"port file {path} was not written within {CLI_START_TIMEOUT} s")


def test_cli_port_file_and_sigterm(tmp_path):
    port_file = tmp_path / "port"
    command = [
        sys.executable,
        "-m",
        "secoda_connector_cluvio.testserver",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--dashboards",
        "4",
        "--seed",
        "3",
    ]
    process = subprocess.Popen(
        command,
        env=cli_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = wait_for_port_file(port_file, process)
        sign_in_status, document = request_json(
            port,
            "POST",
            "/users/sign_in",
            body=credentials(DEFAULT_EMAIL, DEFAULT_PASSWORD),
        )
        list_status, listing = request_json(
            port, "GET", "/dashboards", token=document["token"]
        )

        os.kill(process.pid, signal.SIGTERM)
        return_code = process.wait(timeout=CLI_STOP_TIMEOUT)
        stdout, stderr = process.communicate(timeout=CLI_STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=CLI_STOP_TIMEOUT)

    assert port > 0
    assert sign_in_status == 200
    assert list_status == 200
    assert len(listing["data"]) == 4
    assert return_code == 0, stderr
    assert f"http://127.0.0.1:{port}" in stdout
    assert "4 dashboards, 24 reports" in stdout
    assert not port_file.exists()


def test_cli_help_explains_options():
    completed = subprocess.run(
        [sys.executable, "-m", "secoda_connector_cluvio.testserver", "--help"],
        env=cli_environment(),
        capture_output=True,
        text=True,
        timeout=CLI_START_TIMEOUT,
    )

    assert completed.returncode == 0
    for option in ("--port", "--port-file", "--dashboards", "--seed", "--password"):
        assert option in completed.stdout


def test_cli_rejects_public_host():
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "secoda_connector_cluvio.testserver",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        env=cli_environment(),
        capture_output=True,
        text=True,
        timeout=CLI_START_TIMEOUT,
    )

    assert completed.returncode == 2
    assert "'0.0.0.0'" in completed.stderr
