"""From `hub new` to `hub run`: a generated connector through the marketplace.

A session wheelhouse holds the hub, pytest and hatchling, so both throwaway
environments install offline.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPOSITORY

pytestmark = pytest.mark.slow

PIP_TIMEOUT = 600
AUTHOR = 'Dana "Quotes" Smith'
DESCRIPTION = "Reads Acme's dashboards via C:\\acme \u2014 r\u00e9sum\u00e9 \u2713"

# Runs the environment's installed `hub` command line.
HUB_SCRIPT = textwrap.dedent(
    """
    import sys
    from hub.cli import cli
    cli(sys.argv[1:], prog_name="hub")
    """
)

# Runs `hub publish` with the rename of registry.json failing, as an
# interrupt at the last step would.
INTERRUPTED_PUBLISH = HUB_SCRIPT.replace(
    "import sys\n",
    textwrap.dedent(
        """
        import os, sys
        real_replace = os.replace
        def replace(source, target):
            if str(target).endswith("registry.json"):
                raise KeyboardInterrupt
            real_replace(source, target)
        os.replace = replace
        """
    ),
    1,
)


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
        **kwargs,
    )


def pip(python: Path, *args) -> None:
    result = run([python, "-m", "pip", "--disable-pip-version-check", *args])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("wheelhouse")
    pip(
        Path(sys.executable),
        "wheel",
        "--quiet",
        "--wheel-dir",
        directory,
        REPOSITORY,
        "hatchling",
        "pytest",
    )
    return directory


def new_environment(directory: Path, wheelhouse: Path, *requirements) -> Path:
    result = run([sys.executable, "-m", "venv", directory])
    assert result.returncode == 0, result.stderr
    python = directory / "bin" / "python"
    pip(python, "install", "--quiet", "--no-index", "--find-links", wheelhouse,
        "secoda-hub", *requirements)  # fmt: skip
    return python


class Hub:
    """The hub's CLI in one environment, with its own hub home."""

    def __init__(self, python: Path, home: Path, wheelhouse: Path):
        self.python = python
        self.env = {**os.environ, "SECODA_HUB_HOME": str(home)}
        self.offline = ["--no-index", "--find-links", str(wheelhouse)]

    def __call__(self, *args, script=HUB_SCRIPT, env=None):
        # -I keeps the working directory, which may be a hub checkout, off
        # sys.path, so the environment's installed hub is the one that runs.
        command = [self.python, "-I", "-c", script, *args]
        return run(command, env={**self.env, **(env or {})})


class ApiServer:
    """The generated connector's test server, started from its environment."""

    def __init__(self, python: Path, package: str):
        self.process = subprocess.Popen(
            [str(python), "-m", f"{package}.testserver", "--stop-on-stdin-close"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip()

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


def test_generated_connector_end_to_end(tmp_path, wheelhouse):
    author_python = new_environment(tmp_path / "author", wheelhouse, "pytest")
    author = Hub(author_python, tmp_path / "author-home", wheelhouse)
    registry = tmp_path / "market" / "registry.json"

    created = author(
        "new", "--no-input", "--output-dir", tmp_path, "--name", "acme_bi",
        "--title", "Acme BI", "--author", AUTHOR, "--description", DESCRIPTION,
        "--base-url", "https://api.acme.test",
    )  # fmt: skip
    project = tmp_path / "secoda-connector-acme-bi"
    assert created.returncode == 0, created.stderr
    # pip byte-compiled the installed template; none of that is copied.
    assert list(project.rglob("*.pyc")) == []

    pip(author_python, "install", "--quiet", *author.offline, f"{project}[test]")
    own_tests = run([author_python, "-m", "pytest", "-q"], cwd=project)
    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr

    published = author("publish", project, "--registry", registry, *author.offline)
    assert published.returncode == 0, published.stderr
    assert "as in_review" in published.stdout
    stored = json.loads(registry.read_text())["connectors"][0]
    assert stored["title"] == "Acme BI"
    assert stored["maintainers"] == [AUTHOR]
    assert stored["description"] == DESCRIPTION

    before = registry.read_bytes()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"0.1.0"', '"0.2.0"'))
    interrupted = author(
        "publish", project, "--registry", registry, *author.offline,
        script=INTERRUPTED_PUBLISH,
    )  # fmt: skip
    assert interrupted.returncode == 130
    assert registry.read_bytes() == before

    unreviewed_python = new_environment(tmp_path / "user", wheelhouse)
    user = Hub(unreviewed_python, tmp_path / "user-home", wheelhouse)
    refused = user("install", "acme_bi", "--registry", registry, *user.offline)
    assert refused.returncode == 2
    assert "no published version" in refused.stderr

    reviewed = author(
        "registry", "review", "acme_bi", "0.1.0", "--approve",
        "--reason", "checked", "--registry", registry,
    )  # fmt: skip
    assert reviewed.returncode == 0, reviewed.stderr

    tampered = tampered_copy(registry, tmp_path / "tampered")
    rejected = user("install", "acme_bi", "--registry", tampered, *user.offline)
    assert rejected.returncode == 1
    assert "nothing was installed" in rejected.stderr
    assert "acme_bi" not in listed(user)

    installed = user("install", "acme_bi", "--registry", registry, *user.offline)
    assert installed.returncode == 0, installed.stderr
    assert listed(user)["acme_bi"]["version"] == "0.1.0"

    broken = tmp_path / "broken.json"
    broken.write_text("[")
    broken_env = {"SECODA_HUB_REGISTRY": str(broken)}
    listing = user("registry", "list", env=broken_env)
    assert listing.returncode == 2
    assert f"registry {broken} is not valid JSON" in listing.stderr

    report = run_generated(user, broken_env)
    assert report["resources_by_type"] == {
        "chart": 3,
        "dashboard": 2,
        "dashboard_group": 1,
    }
    assert "acme_bi" in listed(user, broken_env)

    removed = user("uninstall", "acme_bi")
    assert removed.returncode == 0, removed.stderr
    assert "acme_bi" not in listed(user)


def tampered_copy(registry: Path, directory: Path) -> Path:
    shutil.copytree(registry.parent, directory)
    wheel = next((directory / "wheels").glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    return directory / "registry.json"


def listed(hub: Hub, env=None) -> dict:
    result = hub("list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def run_generated(hub: Hub, env) -> dict:
    server = ApiServer(hub.python, "secoda_connector_acme_bi")
    try:
        stored = hub(
            "credentials", "set", "acme_bi",
            "api_token=test-token-0123456789", f"base_url={server.url}",
            "--allow-base-url-host",
        )  # fmt: skip
        assert stored.returncode == 0, stored.stderr
        result = hub("run", "acme_bi", "--json", env=env)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
