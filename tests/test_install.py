"""Real pip installs into throwaway virtual environments.

A session-wide wheelhouse holds the hub, its dependencies and the build
backend, so each environment installs offline from it in a few seconds.
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


def store_cluvio_credentials(venv: Path, base_url: str, env: dict):
    """Store the local Cluvio server's credentials with the venv's hub."""
    return hub_in(
        venv,
        "credentials",
        "set",
        "cluvio",
        f"email={DEFAULT_EMAIL}",
        f"password={DEFAULT_PASSWORD}",
        f"base_url={base_url}",
        "--allow-base-url-host",
        env=env,
    )


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
    stored = store_cluvio_credentials(venv, cluvio_server.url, env)
    assert stored.returncode == 0, stored.stderr
    run = hub_in(venv, "run", "cluvio", "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["resources_by_type"]["dashboard"] == 25

    pip(python, "uninstall", "--yes", "secoda-connector-cluvio")
    assert "cluvio" not in listed(venv)


def test_install_cluvio_from_shipped_registry(
    venv, tmp_path, cluvio_server, wheelhouse
):
    assert "cluvio" not in listed(venv)
    env = {"SECODA_HUB_HOME": str(tmp_path / "home")}
    # Without --registry the hub reads the registry.json inside its own wheel.
    env["SECODA_HUB_REGISTRY"] = ""

    installed = hub_in(
        venv,
        "install",
        "cluvio",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        env=env,
    )
    rows = listed(venv)
    stored = store_cluvio_credentials(venv, cluvio_server.url, env)
    run = hub_in(venv, "run", "cluvio", "--json", env=env)
    removed = hub_in(venv, "uninstall", "cluvio", env=env)

    assert installed.returncode == 0, installed.stderr
    assert "installed cluvio 0.1.0" in installed.stdout
    assert "hub/registry.json" in installed.stdout
    assert rows["cluvio"]["version"] == "0.1.0"
    assert stored.returncode == 0, stored.stderr
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["resources_by_type"]["dashboard"] == 25
    assert removed.returncode == 0, removed.stderr
    assert "cluvio" not in listed(venv)


def write_yanked_registry(directory: Path) -> Path:
    """Write a registry whose only Cluvio version, the shipped wheel, is yanked."""
    wheel = next((REPOSITORY / "wheels").glob("secoda_connector_cluvio-*.whl"))
    (directory / "wheels").mkdir(parents=True)
    shutil.copy(wheel, directory / "wheels" / wheel.name)
    shipped = json.loads((REPOSITORY / "registry.json").read_text())
    [cluvio] = [item for item in shipped["connectors"] if item["name"] == "cluvio"]
    [version] = [item for item in cluvio["versions"] if item["version"] == "0.1.0"]
    version.update(status="yanked", review_reason="sign-in broken")
    cluvio["versions"] = [version]
    path = directory / "registry.json"
    path.write_text(json.dumps({"schema_version": 1, "connectors": [cluvio]}))
    return path


def test_yanked_version_installs_when_pinned(venv, wheelhouse, tmp_path):
    registry = write_yanked_registry(tmp_path / "registry")
    env = {"SECODA_HUB_HOME": str(tmp_path / "home")}
    options = ["--registry", str(registry), "--no-index", "--find-links"]
    options.append(str(wheelhouse))

    newest = hub_in(venv, "install", "cluvio", *options, env=env)
    unreviewed = hub_in(
        venv, "install", "cluvio", "--allow-unreviewed", *options, env=env
    )
    rows_before = listed(venv)
    pinned = hub_in(venv, "install", "cluvio", "--version", "0.1.0", *options, env=env)
    rows_after = listed(venv)
    removed = hub_in(venv, "uninstall", "cluvio", env=env)

    for rejected in (newest, unreviewed):
        assert rejected.returncode == 2
        assert "cluvio has no published version (0.1.0 is yanked: sign-in broken)" in (
            rejected.stderr
        )
        assert "`hub install cluvio --version 0.1.0`" in rejected.stderr
        assert "pass --allow-unreviewed" not in rejected.stderr
    assert "cluvio" not in rows_before
    assert pinned.returncode == 0, pinned.stderr
    assert "installed cluvio 0.1.0" in pinned.stdout
    assert "warning: cluvio 0.1.0 is yanked (sign-in broken)" in pinned.stderr
    assert rows_after["cluvio"]["version"] == "0.1.0"
    assert removed.returncode == 0, removed.stderr


def test_writes_leave_installed_registry(venv, tmp_path):
    [shipped] = venv.glob("lib/python*/site-packages/hub/registry.json")
    wheels = shipped.parent / "wheels"
    before = (shipped.read_bytes(), shipped.stat().st_mode, sorted(wheels.iterdir()))
    env = {"SECODA_HUB_HOME": str(tmp_path / "home")}
    project = write_distribution(tmp_path, "tables", TABLES_CONNECTOR)

    published = hub_in(venv, "publish", str(project), env=env)
    reviewed = hub_in(
        venv, "registry", "review", "cluvio", "0.1.0", "--reject", "--reason", "x",
        env=env,
    )  # fmt: skip
    yanked = hub_in(
        venv, "registry", "yank", "cluvio", "0.1.0", "--reason", "x",
        "--registry", str(shipped), env=env,
    )  # fmt: skip

    for unnamed in (published, reviewed):
        assert unnamed.returncode == 2
        assert "no registry file is named" in unnamed.stderr
    assert yanked.returncode == 2
    assert f"registry {shipped} is inside the installed hub package" in yanked.stderr
    after = (shipped.read_bytes(), shipped.stat().st_mode, sorted(wheels.iterdir()))
    assert after == before


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


# A hub plugin distribution that adds a credential backend named "dirvault":
# one JSON file per profile in the folder named by DIRVAULT_DIR, so values
# persist across hub processes.
DIRVAULT_PLUGIN = """
import json
import os
import os
from pathlib import Path

from hub.credentials import CredentialBackend
from hub.hookspecs import hookimpl


class DirVault(CredentialBackend):
    name = "dirvault"

    def __init__(self, root):
        self.root = Path(root)

    @property
    def location(self):
        return f"dirvault {self.root}"

    def _path(self, connector, profile):
        return self.root / connector / f"{profile}.json"

    def get(self, connector, profile):
        path = self._path(connector, profile)
        return json.loads(path.read_text()) if path.is_file() else {}

    def all(self):
        return {
            folder.name: {item.stem: json.loads(item.read_text())
                          for item in folder.glob("*.json")}
            for folder in self.root.glob("*") if folder.is_dir()
        }

    def allowed_hosts(self, connector, profile):
        return []

    def set(self, connector, profile, values, hosts=()):
        path = self._path(connector, profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**self.get(connector, profile), **values}))

    def remove(self, connector, profile=None):
        paths = [self._path(connector, profile)] if profile else list(
            (self.root / connector).glob("*.json"))
        found = [path for path in paths if path.is_file()]
        for path in found:
            path.unlink()
        return bool(found)


@hookimpl
def hub_list_credential_backends():
    return ["dirvault"]


@hookimpl
def hub_open_credential_backend(name, config_dir):
    if name != "dirvault":
        return None
    return DirVault(os.environ["DIRVAULT_DIR"])
"""

# Declares every value it received as the description of one table, so the
# test can compare what the run read with what was stored.
VALUES_CONNECTOR = """
import json
import os

from hub.sdk import CredentialField, Resource, SecodaIntegration

FIELDS = ("quote", "newline", "equals", "unicode", "empty")


class Connector(SecodaIntegration):
    credential_fields = tuple(
        CredentialField(name, required=False) for name in FIELDS
    )

    def extract(self):
        self.declare_resource(
            Resource(
                entity_type="table",
                databuilder_id="values.t",
                description=json.dumps(dict(self.credentials), sort_keys=True),
                schema="public",
                database="warehouse",
            )
        )
"""

ODD_VALUES = {
    "quote": 'it\'s "x"',
    "newline": "a\nb",
    "equals": "a=b=c",
    "unicode": "pässwörd ✓ Ω",
    "empty": "",
}


def write_plugin(root: Path) -> Path:
    directory = root / "secoda-hub-dirvault"
    directory.mkdir()
    (directory / "secoda_hub_dirvault.py").write_text(textwrap.dedent(DIRVAULT_PLUGIN))
    (directory / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "secoda-hub-dirvault"
            version = "1.0.0"
            dependencies = ["secoda-hub"]

            [project.entry-points."secoda.hub.plugins"]
            dirvault = "secoda_hub_dirvault"

            [tool.hatch.build.targets.wheel]
            include = ["secoda_hub_dirvault.py"]
            """
        )
    )
    return directory


def test_plugin_adds_credential_backend(venv, wheelhouse, tmp_path):
    python = venv / "bin" / "python"
    offline_install(python, wheelhouse, str(write_plugin(tmp_path)))
    connector = write_distribution(tmp_path, "values", VALUES_CONNECTOR)
    offline_install(python, wheelhouse, str(connector))
    vault = tmp_path / "vault"
    env = {"SECODA_HUB_HOME": str(tmp_path / "home"), "DIRVAULT_DIR": str(vault)}

    stored = subprocess.run(
        [str(venv / "bin" / "hub"), "credentials", "set", "values", "--stdin"]
        + ["--backend", "dirvault"],
        input=json.dumps(ODD_VALUES),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    show_result = hub_in(
        venv,
        "credentials",
        "show",
        "values",
        "--backend",
        "dirvault",
        "--json",
        env=env,
    )
    run_env = {**env, "SECODA_HUB_CREDENTIAL_BACKEND": "dirvault"}
    output = tmp_path / "out"
    run = hub_in(venv, "run", "values", "--output", str(output), env=run_env)

    assert stored.returncode == 0, stored.stderr
    assert f"in dirvault {vault}" in stored.stdout
    assert json.loads((vault / "values" / "default.json").read_text()) == ODD_VALUES
    assert not (tmp_path / "home" / "config" / "credentials.json").exists()
    assert show_result.returncode == 0, show_result.stderr
    rows = json.loads(show_result.stdout)[0]["fields"]
    assert {row["field"]: row["value"] for row in rows} == ODD_VALUES
    assert run.returncode == 0, run.stderr
    resource = json.loads((output / "resources.jsonl").read_text())
    assert json.loads(resource["description"]) == ODD_VALUES

    pip(python, "uninstall", "--yes", "secoda-hub-dirvault", "secoda-connector-values")
