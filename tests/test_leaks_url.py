"""Secrets inside URLs, in the forms httpx writes, never reach any output.

httpx leaves ``@ + = & ! $ ' ( ) * , ; :`` literal in a path, and encodes a
query value and user info with other safe sets, so its text differs from
``urllib.parse.quote``. A connector that puts its password into each part of
a URL and calls ``raise_for_status()`` gets that text in the exception,
which reaches the verbose log, stderr, the ``--json`` error and the catalog.
"""

import json
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from click.testing import CliRunner

from conftest import local_http_server, run_hub_process
from hub.cli import cli
from hub.redaction import REPLACEMENT, Redactor
from hub.sdk.http import mask_url

# Each password with the pieces that survive any encoding of it, so a search
# for them finds the password in whatever form it leaked.
PASSWORDS = {
    "quotes": ('Mx7/Qk "zebra" ünï+=&pw', ("zebra", "Mx7")),
    "everyday": ("Tr0ub@dor 3xyz", ("Tr0ub", "3xyz")),
}

# How a connector might put the password into a URL, given the base URL.
URL_BUILDERS = {
    "path": lambda base, secret: f"{base}/p/{secret}/x",
    "query": lambda base, secret: f"{base}/q?v={secret}&page=2",
    "params": lambda base, secret: str(httpx.URL(f"{base}/q", params={"v": secret})),
    "userinfo": lambda base, secret: str(
        httpx.URL(base).copy_with(username="u", password=secret)
    ),
    "username": lambda base, secret: str(httpx.URL(base).copy_with(username=secret)),
}


def assert_no_fragment(text: str, fragments) -> None:
    for fragment in fragments:
        assert fragment not in text


@pytest.mark.parametrize("password", PASSWORDS, ids=str)
@pytest.mark.parametrize("position", URL_BUILDERS, ids=str)
def test_httpx_url_text_redacted(password, position):
    secret, fragments = PASSWORDS[password]
    url = str(httpx.URL(URL_BUILDERS[position]("http://127.0.0.1:8080", secret)))

    redacted = Redactor([secret])(url)

    assert REPLACEMENT in redacted
    assert_no_fragment(redacted, fragments)


@pytest.mark.parametrize("password", PASSWORDS, ids=str)
@pytest.mark.parametrize("position", ["path", "query", "params"], ids=str)
def test_mask_url_hides_httpx_forms(password, position):
    secret, fragments = PASSWORDS[password]
    url = httpx.URL(URL_BUILDERS[position]("http://127.0.0.1:8080", secret))

    masked = mask_url(url, [secret])

    assert REPLACEMENT in masked
    assert masked.startswith("http://127.0.0.1:8080/")
    assert_no_fragment(masked, fragments)


def test_mask_url_keeps_other_parameters():
    url = httpx.URL("http://127.0.0.1:8080/q?v=Tr0ub@dor%203xyz&page=2")

    assert mask_url(url, ["Tr0ub@dor 3xyz"]) == (
        "http://127.0.0.1:8080/q?v=[redacted]&page=2"
    )


URL_LEAK_CONNECTOR = """\
import httpx

from hub.sdk import CredentialField, SecodaIntegration


class UrlLeak(SecodaIntegration):
    credential_fields = (
        CredentialField("base_url", secret=False),
        CredentialField("position", secret=False),
        CredentialField("password", secret=True),
    )

    def extract(self):
        base = self.credentials["base_url"]
        password = self.credentials["password"]
        position = self.credentials["position"]
        if position == "path":
            url = f"{base}/p/{password}/x"
        elif position == "query":
            url = f"{base}/q?v={password}"
        else:
            url = str(httpx.URL(base).copy_with(username="u", password=password))
        response = self.http_get(url)
        response.raise_for_status()
"""


class UnauthorizedHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def unauthorized_server():
    """Serve 401 for every GET on 127.0.0.1; yield the base URL."""
    with local_http_server(UnauthorizedHandler) as url:
        yield url


@pytest.mark.parametrize("password", PASSWORDS, ids=str)
@pytest.mark.parametrize("position", ["path", "query", "userinfo"], ids=str)
def test_url_secret_absent_from_run(
    password, position, tmp_path, hub_home, unauthorized_server
):
    secret, fragments = PASSWORDS[password]
    connector = tmp_path / "url_leak.py"
    connector.write_text(URL_LEAK_CONNECTOR)
    values = {"base_url": unauthorized_server, "position": position, "password": secret}
    stored = CliRunner().invoke(
        cli,
        ["credentials", "set", str(connector), "--stdin", "--allow-base-url-host"],
        input=json.dumps(values),
    )
    assert stored.exit_code == 0, stored.output

    result = run_hub_process("run", str(connector), "-v", "--json")

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert "401 Unauthorized" in report["error"]
    assert REPLACEMENT in report["error"]
    assert "HTTPStatusError" in result.stderr
    assert_no_fragment(result.stdout, fragments)
    assert_no_fragment(result.stderr, fragments)
    # The catalog file with any journal beside it, as bytes on disk.
    catalog = b"".join(path.read_bytes() for path in (hub_home / "data").iterdir())
    assert b"401 Unauthorized" in catalog
    for fragment in fragments:
        assert fragment.encode() not in catalog
