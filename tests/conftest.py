"""Fixtures shared by the hub's tests: an isolated hub home and a Cluvio server."""

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import cli
from hub.sdk.http import PooledNetworkStrategy
from secoda_connector_cluvio.testserver import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    CluvioTestServer,
    generate_account,
)

REPOSITORY = Path(__file__).resolve().parent.parent
HUB_ENVIRONMENT_PREFIXES = ("SECODA_HUB_",)


@pytest.fixture(autouse=True)
def hub_home(tmp_path, monkeypatch) -> Path:
    """Give every test its own hub home, catalog and credential store."""
    for name in list(os.environ):
        if name.startswith(HUB_ENVIRONMENT_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "hub-home"
    monkeypatch.setenv("SECODA_HUB_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def cluvio_account():
    return generate_account(25, seed=7)


@pytest.fixture
def cluvio_server(cluvio_account):
    with CluvioTestServer(
        cluvio_account, email=DEFAULT_EMAIL, password=DEFAULT_PASSWORD
    ) as server:
        yield server


@pytest.fixture
def hub():
    """Invoke the CLI in process and return the click result."""

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def cluvio_credentials(hub, cluvio_server):
    """Store working Cluvio credentials pointing at the local server."""
    result = hub(
        "credentials",
        "set",
        "cluvio",
        f"email={DEFAULT_EMAIL}",
        f"password={DEFAULT_PASSWORD}",
        f"base_url={cluvio_server.url}",
        "--allow-base-url-host",
    )
    assert result.exit_code == 0, result.output
    return cluvio_server


PASSWORD_CONNECTOR = """\
from hub.sdk import CredentialField, SecodaIntegration


class Leak(SecodaIntegration):
    credential_fields = (
        CredentialField("base_url", secret=False),
        CredentialField("password", secret=True),
    )

    def extract(self):
        pass
"""


@pytest.fixture
def password_connector(tmp_path) -> Path:
    """Write ``leak.py``, a file connector with a base_url and a secret password."""
    path = tmp_path / "leak.py"
    path.write_text(PASSWORD_CONNECTOR)
    return path


def run_hub_process(
    *args: str,
    env: dict | None = None,
    hub_path: str | None = None,
    cwd: Path | None = None,
    input: str | None = None,
    umask: int = -1,
):
    """Run the ``hub`` console script in a child process.

    ``umask`` sets the child's umask; -1 keeps this process's.
    """
    command = [hub_path or str(Path(sys.executable).with_name("hub")), *args]
    return subprocess.run(
        command,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        umask=umask,
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@contextlib.contextmanager
def serving(server):
    """Run ``server.serve_forever`` in a thread until the block ends."""
    # A short poll interval keeps shutdown() from waiting half a second.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def local_http_server(handler) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 in a thread; yield the base URL."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def sleeps():
    """The waits of the strategies that ``make_strategy`` builds, in seconds."""
    return []


@pytest.fixture
def make_strategy(sleeps):
    """Build pooled strategies that record their waits instead of sleeping."""
    built = []

    def build(**options):
        options.setdefault("allowed_hosts", None)
        options.setdefault("sleep", sleeps.append)
        strategy = PooledNetworkStrategy(**options)
        built.append(strategy)
        return strategy

    yield build
    for strategy in built:
        strategy.finalize()
