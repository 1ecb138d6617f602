"""Real pip installs into throwaway virtual environments.

A session-wide wheelhouse holds the hub, its dependencies and the build
backend, so each environment installs offline from it in a few seconds.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPOSITORY
from secoda_connector_cluvio.testserver import DEFAULT_EMAIL, DEFAULT_PASSWORD

pytestmark = pytest.mark.slow

PIP_TIMEOUT = 600


def pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("wheelhouse")
    pip(
        Path(sys.executable),
        "wheel",
        "--quiet",
        "--wheel-dir",
        str(directory),
        str(REPOSITORY),
        "hatchling==1.33.0",
    )
    return directory


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheelhouse) -> Path:
    """A virtual environment with only the hub installed."""
    directory = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", str(directory)], check=True, timeout=120
    )
    python = directory / "bin" / "python"
    offline_install(python, wheelhouse, "secoda-hub")
    return directory


def offline_install(python: Path, wheelhouse: Path, *requirements: str) -> None:
    pip(
        python,
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        *requirements,
    )


def hub_in(
    venv: Path, *args: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [str(venv / "bin" / "hub"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def listed(venv: Path, *options: str, exit_code: int = 0) -> dict[str, dict]:
    result = hub_in(venv, "list", "--json", *options)
    assert result.returncode == exit_code, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def write_distribution(root: Path, name: str, module_source: str) -> Path:
    """Write a one-module connector distribution and return its directory."""
    package = f"secoda_connector_{name}"
    directory = root / f"secoda-connector-{name}"
    (directory / package).mkdir(parents=True)
    (directory / package / "__init__.py").write_text(textwrap.dedent(module_source))
    (directory / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "secoda-connector-{name}"
            version = "2.3.4"
            dependencies = ["secoda-hub"]

            [project.entry-points."secoda.connectors"]
            {name} = "{package}:Connector"

            [tool.hatch.build.targets.wheel]
            packages = ["{package}"]
            """
        )
    )
    return directory


TABLES_CONNECTOR = """
from hub.sdk import Resource, SecodaIntegration


class Connector(SecodaIntegration):
    def extract(self):
        for number in range(int(self.credentials.get("count", "3"))):
            self.declare_resource(
                Resource(
                    entity_type="table",
                    databuilder_id=f"tables.t{number}",
                    schema="public",
                    database="warehouse",
                )
            )
"""

BROKEN_CONNECTOR = """
raise ImportError("this connector is broken on purpose")
"""


def test_cluvio_install_and_uninstall(venv, wheelhouse, tmp_path, cluvio_server):
    python = venv / "bin" / "python"
    assert "cluvio" not in listed(venv)

    offline_install(python, wheelhouse, str(REPOSITORY / "connectors" / "cluvio"))
    rows = listed(venv)
    assert rows["cluvio"]["version"] == "0.1.0"
    assert rows["cluvio"]["distribution"] == "secoda-connector-cluvio"

    env = {"SECODA_HUB_HOME": str(tmp_path / "home")}
    stored = hub_in(
        venv,
        "credentials",
        "set",
        "cluvio",
        f"email={DEFAULT_EMAIL}",
        f"password={DEFAULT_PASSWORD}",
        f"base_url={cluvio_server.url}",
        "--allow-base-url-host",
        env=env,
    )
    assert stored.returncode == 0, stored.stderr
    run = hub_in(venv, "run", "cluvio", "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["resources_by_type"]["dashboard"] == 25

    pip(python, "uninstall", "--yes", "secoda-connector-cluvio")
    assert "cluvio" not in listed(venv)


def test_new_distribution_needs_no_hub_change(venv, wheelhouse, tmp_path):
    source = write_distribution(tmp_path, "tables", TABLES_CONNECTOR)
    offline_install(venv / "bin" / "python", wheelhouse, str(source))

    rows = listed(venv, "--check")
    env = {"SECODA_HUB_HOME": str(tmp_path / "home")}
    hub_in(venv, "credentials", "set", "tables", "count=4", env=env)
    run = hub_in(venv, "run", "tables", "--json", env=env)

    assert rows["tables"]["status"] == "ok"
    assert rows["tables"]["version"] == "2.3.4"
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["resources_by_type"] == {"table": 4}


def test_broken_distribution_stays_contained(venv, wheelhouse, tmp_path):
    python = venv / "bin" / "python"
    offline_install(
        python, wheelhouse, str(write_distribution(tmp_path, "good", TABLES_CONNECTOR))
    )
    offline_install(
        python,
        wheelhouse,
        str(write_distribution(tmp_path, "broken", BROKEN_CONNECTOR)),
    )
    env = {"SECODA_HUB_HOME": str(tmp_path / "home")}

    plain = listed(venv)
    checked = listed(venv, "--check", exit_code=1)
    broken_run = hub_in(venv, "run", "broken", env=env)
    good_run = hub_in(venv, "run", "good", "--json", env=env)

    assert plain["broken"]["status"] == "installed"
    assert checked["broken"]["status"] == "broken"
    assert "broken on purpose" in checked["broken"]["error"]
    assert "secoda-connector-broken 2.3.4" in checked["broken"]["error"]
    assert checked["good"]["status"] == "ok"
    assert broken_run.returncode == 1
    assert "ImportError: this connector is broken on purpose" in broken_run.stderr
    assert good_run.returncode == 0, good_run.stderr
    assert json.loads(good_run.stdout)["resources"] == 3
