"""No command, run, log, catalog or output file shows a stored secret.

Two distinctive secrets, one with a quote, a newline and non-ASCII text, go
through every credential command (typed at a prompt, given as arguments,
read from standard input and from variables, and mistyped), ``hub show``,
``hub list``, ``hub runs`` and six runs: a successful one against a local
Cluvio server, a failed sign-in, a profile missing a required field, a file
connector that raises with its credentials in the message, one whose model
fails validation, and one that logs and raises with the whole process
environment. Every output, and every file the hub wrote outside the
credential store itself, is then searched for each secret in its raw,
JSON-escaped (``ensure_ascii`` on and off) and ``repr`` forms. A last test
runs a connector that puts secrets into URL paths and queries, and searches
the verbose output for their URL-encoded forms.
"""

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner

from conftest import local_http_server, run_hub_process
from hub.cli import cli
from hub.cli.show import show_command
from hub.credentials import env_name
from hub.credentials.encryption import KEY_ENV, generate_key
from secoda_connector_cluvio.testserver import DEFAULT_EMAIL, CluvioTestServer

SECRET = 'pa"ss\nwörd-Ω-7731'
SECOND = "tok'en=Zeta-ü-4402\tend"

# Parts that identify a secret even when only a piece of it leaks, such as the
# text after the newline. Plain digits would match byte counts by chance.
FRAGMENTS = ("wörd-Ω-7731", "Zeta-ü-4402")


LEAKY_CONNECTOR = """\
import logging

from hub.sdk import CredentialField, SecodaIntegration

logger = logging.getLogger(__name__)


class Leaky(SecodaIntegration):
    credential_fields = (
        CredentialField("token", secret=True),
        CredentialField("api_key", secret=True),
    )

    def extract(self):
        logger.debug("values %s, dict %r", self.credentials, dict(self.credentials))
        logger.warning("token is %s", self.credentials["token"])
        raise RuntimeError(
            f"token {self.credentials['token']} key {self.credentials['api_key']!r} "
            f"in {dict(self.credentials)}"
        )
"""

INVALID_CONNECTOR = """\
from hub.sdk import CredentialField, Resource, SecodaIntegration


class Invalid(SecodaIntegration):
    credential_fields = (CredentialField("token", secret=True),)

    def extract(self):
        # entity_type is required, so validation fails on this input.
        self.declare_resource(Resource(databuilder_id=self.credentials["token"]))
"""


ENVIRONMENT_DUMP_CONNECTOR = """\
import logging
import os

from hub.sdk import SecodaIntegration

logger = logging.getLogger(__name__)


class Nosy(SecodaIntegration):
    def extract(self):
        logger.warning("environment %s", dict(os.environ))
        raise RuntimeError(f"environment {dict(os.environ)!r}")
"""


def secret_forms(text: str) -> set[str]:
    return {
        text,
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=True)[1:-1],
        repr(text)[1:-1],
    }


NEEDLES = sorted(
    {form for text in (SECRET, SECOND, *FRAGMENTS) for form in secret_forms(text)}
)


@pytest.fixture
def secret_server(cluvio_account):
    """A Cluvio server whose password is the distinctive secret."""
    with CluvioTestServer(
        cluvio_account, email=DEFAULT_EMAIL, password=SECRET
    ) as server:
        yield server


class Transcript:
    """Every command run in a test, with its outputs, for the final search."""

    def __init__(self):
        self.results = []

    def __call__(self, *args, input=None, command=cli):
        result = CliRunner().invoke(command, list(args), input=input)
        self.results.append((args, result))
        return result

    def leaks(self) -> list[str]:
        found = []
        for args, result in self.results:
            for stream in ("stdout", "stderr"):
                text = getattr(result, stream)
                found += [f"{args} {stream}: {n!r}" for n in NEEDLES if n in text]
            if result.exception and not isinstance(result.exception, SystemExit):
                found.append(f"{args} raised {type(result.exception).__name__}")
        return found


def file_leaks(*directories: Path) -> list[str]:
    found = []
    for directory in directories:
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            found += [f"{path}: {n!r}" for n in NEEDLES if n.encode() in data]
    return found


@pytest.fixture
def stored(tmp_path, secret_server):
    """Store both secrets for Cluvio, a leaky connector and an invalid one."""
    hub = Transcript()
    leaky = tmp_path / "leaky.py"
    leaky.write_text(LEAKY_CONNECTOR)
    invalid = tmp_path / "invalid.py"
    invalid.write_text(INVALID_CONNECTOR)

    good = {"email": DEFAULT_EMAIL, "password": SECRET, "base_url": secret_server.url}
    bad = {**good, "password": SECOND}
    setups = [
        ("cluvio", "default", good, ["--allow-base-url-host"]),
        ("cluvio", "bad", bad, ["--allow-base-url-host"]),
        (str(leaky), "default", {"token": SECOND, "api_key": SECRET}, []),
        (str(invalid), "default", {"token": SECRET}, []),
    ]
    for connector, profile, values, extra in setups:
        result = hub(
            "credentials",
            "set",
            connector,
            "--profile",
            profile,
            "--stdin",
            *extra,
            input=json.dumps(values),
        )
        assert result.exit_code == 0, result.output
    return hub, leaky, invalid


def test_commands_show_no_secret(stored, hub_home):
    hub, leaky, invalid = stored

    assert hub("credentials", "list").exit_code == 0
    assert hub("credentials", "list", "--json").exit_code == 0
    assert hub("credentials", "show", "cluvio").exit_code == 0
    assert hub("credentials", "show", "cluvio", "--json").exit_code == 0
    assert hub("credentials", "show", str(leaky), "--profile", "default").exit_code == 0
    assert hub("credentials", "test", "cluvio").stdout.startswith("ok:")
    failed = hub("credentials", "test", "cluvio", "--profile", "bad")
    assert failed.exit_code == 1
    assert hub("credentials", "test", str(leaky)).exit_code == 2
    assert hub("cluvio", "--json", command=show_command).exit_code == 0
    assert hub(str(leaky), command=show_command).exit_code == 0
    assert hub("list").exit_code == 0
    assert hub("list", "--check", "--json").exit_code == 0
    assert hub("credentials", "remove", str(invalid)).exit_code == 0

    assert hub.leaks() == []
    assert file_leaks(hub_home / "data") == []


def test_set_inputs_show_no_secret(stored, hub_home, monkeypatch):
    hub, leaky, invalid = stored
    monkeypatch.setenv(env_name("cluvio", "vars", "email"), DEFAULT_EMAIL)
    monkeypatch.setenv(env_name("cluvio", "vars", "password"), SECRET)
    monkeypatch.setenv("LEAK_TEST_PASSWORD", SECOND)

    typed = hub(
        "credentials",
        "set",
        "cluvio",
        "--profile",
        "typed",
        input=f"{DEFAULT_EMAIL}\n{SECOND}\n\n",
    )
    from_env = hub("credentials", "set", "cluvio", "--profile", "vars", "--from-env")
    named = hub(
        "credentials",
        "set",
        "cluvio",
        "--profile",
        "named",
        f"email={DEFAULT_EMAIL}",
        "--env-var",
        "password=LEAK_TEST_PASSWORD",
    )
    unknown = hub("credentials", "set", "cluvio", f"passwrd={SECOND}")
    pasted = hub("credentials", "set", "cluvio", FRAGMENTS[1])
    listed = hub("credentials", "list", "--json")

    assert typed.exit_code == 0, typed.output
    assert from_env.exit_code == 0, from_env.output
    assert named.exit_code == 0, named.output
    assert unknown.exit_code == 2
    assert "'passwrd'" in unknown.stderr
    assert pasted.exit_code == 2
    assert "argument 1 after CONNECTOR is not FIELD=VALUE" in pasted.stderr
    profiles = {row["profile"] for row in json.loads(listed.stdout)}
    assert {"typed", "vars", "named"} <= profiles
    assert hub.leaks() == []
    assert file_leaks(hub_home / "data") == []


def test_runs_show_no_secret(stored, hub_home, tmp_path):
    hub, leaky, invalid = stored
    outputs = tmp_path / "outputs"

    ok = hub("run", "cluvio", "-v", "--json", "--output", str(outputs / "ok"))
    assert ok.exit_code == 0, ok.output
    bad = hub("run", "cluvio", "--profile", "bad", "-v", "--json")
    assert bad.exit_code == 1
    raised = hub("run", str(leaky), "-v", "--output", str(outputs / "leaky"))
    assert raised.exit_code == 1
    assert "RuntimeError: token [redacted]" in raised.stderr
    rejected = hub("run", str(invalid), "-v", "--json")
    assert rejected.exit_code == 1
    assert "entity_type" in rejected.output
    hub(
        "credentials",
        "set",
        "cluvio",
        "--profile",
        "partial",
        "--stdin",
        input=f"email={DEFAULT_EMAIL}\n",
    )
    partial = hub("run", "cluvio", "--profile", "partial", "-v")
    assert partial.exit_code == 2
    assert "missing credentials" in partial.stderr
    assert hub("runs").exit_code == 0
    assert hub("runs", "--json").exit_code == 0

    assert hub.leaks() == []
    assert file_leaks(hub_home / "data", outputs) == []


def test_environment_dump_shows_no_secret(stored, hub_home, tmp_path, monkeypatch):
    hub, leaky, invalid = stored
    nosy = tmp_path / "nosy.py"
    nosy.write_text(ENVIRONMENT_DUMP_CONNECTOR)
    key = generate_key()
    # A second profile supplied only through the environment, and the
    # credential file's encryption key, are both visible in os.environ.
    monkeypatch.setenv(env_name("cluvio", "eu", "password"), SECRET)
    monkeypatch.setenv(env_name("leaky", "eu", "token"), SECOND)
    monkeypatch.setenv(KEY_ENV, key)
    output = tmp_path / "nosy-output"

    dumped = hub("run", str(nosy), "-v", "--output", str(output))
    history = hub("runs", "--json")

    assert dumped.exit_code == 1
    assert "RuntimeError: environment" in dumped.stderr
    assert hub.leaks() == []
    assert file_leaks(hub_home / "data", output) == []
    for result in (dumped, history):
        assert key not in result.stdout
        assert key not in result.stderr


def test_search_finds_planted_secret(tmp_path):
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "log.txt").write_text(json.dumps({"value": SECRET}))

    assert file_leaks(planted) != []


# A secret with "/" and a space, and a base64-like one, whose URL-encoded
# forms differ from the raw text.
PATH_SECRET = "Slash/Space Secret"
QUERY_SECRET = "B64Secret Mu/Nu=="

ENCODING_CONNECTOR = """\
import logging
import os

import httpx

from hub.sdk import CredentialField, SecodaIntegration

logger = logging.getLogger(__name__)


class Encoding(SecodaIntegration):
    credential_fields = (
        CredentialField("base_url", secret=False),
        CredentialField("path_secret", secret=True),
    )

    def extract(self):
        base = self.credentials["base_url"]
        self.http_get(f"{base}/a/{self.credentials['path_secret']}/b")
        # A value of another profile, which the run redacts but does not
        # give to the HTTP runtime as one of this run's secrets.
        other = os.environ["SECODA_HUB_CRED__ENCODING__OTHER__TOKEN"]
        self.http_get(f"{base}/q?raw={other}")
        logger.info("built %s", httpx.URL(f"{base}/q", params={"raw": other}))
"""


class EmptyJSONHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def json_server():
    """Serve ``{}`` for every GET on 127.0.0.1; yield the base URL."""
    with local_http_server(EmptyJSONHandler) as url:
        yield url


def url_forms(secret: str) -> set[str]:
    forms = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    return forms | {form.lower() for form in forms}


def test_url_encoded_secrets_redacted(tmp_path, json_server):
    connector = tmp_path / "encoding.py"
    connector.write_text(ENCODING_CONNECTOR)
    stored = CliRunner().invoke(
        cli,
        [
            "credentials",
            "set",
            str(connector),
            f"base_url={json_server}",
            f"path_secret={PATH_SECRET}",
            "--allow-base-url-host",
        ],
    )
    assert stored.exit_code == 0, stored.output

    result = run_hub_process(
        "run",
        str(connector),
        "-v",
        env={env_name("encoding", "other", "token"): QUERY_SECRET},
    )

    text = result.stdout + result.stderr
    assert result.returncode == 0, text
    assert "GET http://127.0.0.1" in result.stderr
    assert "/a/[redacted]/b" in result.stderr
    assert "?raw=[redacted]" in result.stderr
    assert "built http://127.0.0.1" in result.stderr
    for secret in (PATH_SECRET, QUERY_SECRET):
        for form in {secret} | url_forms(secret):
            assert form not in text
    # Distinctive pieces of each secret, against forms the loop does not list.
    assert "B64Secret" not in text
    assert "Slash" not in text
