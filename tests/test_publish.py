"""`hub publish`: reproducible builds, publication checks and safe writes.

Each test builds a real distribution with `python -m build`, whose isolated
build environment installs hatchling through pip.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import run_hub_process
from hub.cli.registry import new_command, publish_command
from hub.errors import PublishError
from hub.registry import Registry, document, write_registry_file
from hub.registry.build import build_distribution
from hub.registry.publish import publish
from hub.registry.wheelinfo import load_in_fresh_environment

pytestmark = pytest.mark.slow

GOOD_CONNECTOR = '''
from hub.sdk import CredentialField, Resource, SecodaIntegration


class Connector(SecodaIntegration):
    """Tables from the sample API."""

    credential_fields = (
        CredentialField("api_token", secret=True),
        CredentialField("base_url", required=False),
    )
    allowed_hosts = ("api.sample.test",)

    def extract(self):
        self.declare_resource(
            Resource(entity_type="dashboard", databuilder_id="sample.d1")
        )
'''

LEAKY_CONNECTOR = """
from hub.sdk import CredentialField, SecodaIntegration


class Connector(SecodaIntegration):
    credential_fields = (CredentialField("api_key"),)

    def extract(self):
        pass
"""


def write_project(
    root: Path,
    name: str,
    source: str = GOOD_CONNECTOR,
    *,
    distribution: str | None = None,
    version: str = "1.0.0",
    entry_points: str | None = None,
    documents: bool = True,
) -> Path:
    """Write a src-layout connector distribution and return its directory."""
    package = f"secoda_connector_{name}"
    directory = root / f"project-{name}"
    (directory / "src" / package).mkdir(parents=True)
    (directory / "src" / package / "__init__.py").write_text(textwrap.dedent(source))
    readme = 'readme = "README.md"\nlicense = "MIT"' if documents else ""
    if documents:
        (directory / "README.md").write_text(f"# {name}\n\nA sample connector.\n")
        (directory / "LICENSE").write_text("MIT License\n")
    points = entry_points or f'{name} = "{package}:Connector"'
    (directory / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["hatchling>=1.24"]
            build-backend = "hatchling.build"

            [project]
            name = "{distribution}"
            version = "{version}"
            description = "A sample connector."
            {readme}
            dependencies = ["secoda-hub>=0.1"]

            [project.entry-points."secoda.connectors"]
            {points}

            [tool.hatch.build.targets.wheel]
            packages = ["src/{package}"]
            """
        ).format(
            distribution=distribution or f"secoda-connector-{name}",
            version=version,
            readme=readme,
            points=points,
            package=package,
        )
    )
    return directory


def test_publish_adds_in_review(tmp_path):
    registry = tmp_path / "market" / "registry.json"
    result = publish(write_project(tmp_path, "sample"), registry)

    stored = json.loads(registry.read_text())["connectors"][0]
    version = stored["versions"][0]
    assert result.outcome == "added"
    assert stored["name"] == "sample"
    assert stored["credential_fields"][0] == {
        "name": "api_token",
        "required": True,
        "secret": True,
    }
    assert stored["allowed_hosts"] == ["api.sample.test"]
    assert version["status"] == "in_review"
    assert version["sha256"] == result.sha256
    assert (registry.parent / version["wheel"]["path"]).is_file()


def test_two_builds_same_sha256(tmp_path):
    project = write_project(tmp_path, "sample")
    first = build_distribution(project, tmp_path / "one")
    os.utime(project / "src" / "secoda_connector_sample" / "__init__.py", (1, 1))
    second = build_distribution(project, tmp_path / "two")

    assert first.sha256 == second.sha256


def test_same_bytes_republish_is_noop(tmp_path):
    registry = tmp_path / "registry.json"
    project = write_project(tmp_path, "sample")
    publish(project, registry)
    before = registry.read_bytes()

    again = publish(project, registry)

    assert again.outcome == "unchanged"
    assert registry.read_bytes() == before


def test_changed_bytes_republish_refused(tmp_path):
    registry = tmp_path / "registry.json"
    project = write_project(tmp_path, "sample")
    publish(project, registry)
    module = project / "src" / "secoda_connector_sample" / "__init__.py"
    module.write_text(module.read_text() + "\n# changed\n")

    with pytest.raises(PublishError, match="already holds sample 1.0.0"):
        publish(project, registry)


def test_dry_run_changes_nothing(tmp_path):
    registry = tmp_path / "registry.json"
    result = CliRunner().invoke(
        publish_command,
        [
            str(write_project(tmp_path, "sample")),
            "--registry",
            str(registry),
            "--dry-run",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "passed every check (dry run)" in result.output
    assert not registry.exists()
    assert not (tmp_path / "wheels").exists()


def test_failed_checks_name_each_fix(tmp_path):
    project = write_project(
        tmp_path,
        "leaky",
        LEAKY_CONNECTOR,
        distribution="leaky-connector",
        documents=False,
    )

    with pytest.raises(PublishError) as raised:
        publish(project, tmp_path / "registry.json")

    message = str(raised.value)
    assert "failed 5 publication check(s)" in message
    assert "set [project] name = 'secoda-connector-leaky'" in message
    assert "'api_key' looks secret but is not marked secret" in message
    assert "declares no allowed_hosts" in message
    assert "carries no README" in message
    assert "carries no license file" in message
    assert not (tmp_path / "registry.json").exists()


NOT_AN_INTEGRATION = """
class Connector:
    credential_fields = ()
"""

UNDECLARED_FIELDS = """
from hub.sdk import SecodaIntegration


class Connector(SecodaIntegration):
    allowed_hosts = ("api.sample.test",)

    def extract(self):
        pass
"""


@pytest.mark.parametrize(
    ("source", "message", "fix"),
    [
        (
            NOT_AN_INTEGRATION,
            "is not a SecodaIntegration subclass",
            "subclass it from `from hub.sdk import SecodaIntegration`",
        ),
        (
            UNDECLARED_FIELDS,
            "declares no credential_fields",
            "declare every key the connector reads from self.credentials",
        ),
    ],
    ids=["not-integration", "no-fields"],
)
def test_class_checks_name_fix(tmp_path, source, message, fix):
    project = write_project(tmp_path, "classy", source)

    with pytest.raises(PublishError) as raised:
        publish(project, tmp_path / "registry.json")

    assert "failed 1 publication check(s)" in str(raised.value)
    assert message in str(raised.value)
    assert fix in str(raised.value)
    assert not (tmp_path / "registry.json").exists()


def test_two_entry_points_refused(tmp_path):
    points = (
        'one = "secoda_connector_two:Connector"\ntwo = "secoda_connector_two:Connector"'
    )
    project = write_project(tmp_path, "two", entry_points=points)

    with pytest.raises(PublishError, match="declares 2 entry points"):
        publish(project, tmp_path / "registry.json")


def test_unpackaged_module_fails_fresh_load(tmp_path):
    points = 'ghost = "secoda_connector_elsewhere:Connector"'
    project = write_project(tmp_path, "ghost", entry_points=points)

    with pytest.raises(PublishError, match="failed to import in a fresh virtual"):
        publish(project, tmp_path / "registry.json")


def test_invalid_version_refused(tmp_path):
    project = write_project(tmp_path, "sample", version="1.0.0")
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace('"1.0.0"', '"yesterday"'))

    with pytest.raises(PublishError, match="building .* failed"):
        publish(project, tmp_path / "registry.json")


def test_interrupted_publish_keeps_registry(tmp_path, monkeypatch):
    registry = tmp_path / "registry.json"
    publish(write_project(tmp_path, "first"), registry)
    before = registry.read_bytes()
    real_replace = os.replace

    def interrupted_replace(source, target):
        if Path(target).name == "registry.json":
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(document.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        publish(write_project(tmp_path, "second"), registry)

    assert registry.read_bytes() == before
    wheels = sorted(path.name for path in (tmp_path / "wheels").iterdir())
    assert len(wheels) == 1
    assert wheels[0].startswith("secoda_connector_first-1.0.0-")
    assert not list(tmp_path.glob(".registry.json.*"))


def test_publish_without_pyproject_is_usage_error(tmp_path):
    folder = tmp_path / "not-a-project"
    folder.mkdir()
    registry = tmp_path / "registry.json"

    result = run_hub_process("publish", str(folder), "--registry", str(registry))

    assert result.returncode == 2
    assert result.stderr == (
        f"Error: {folder} contains no pyproject.toml; give the directory of a "
        "connector distribution, such as ./connectors/cluvio, or create one "
        "with `hub new`\n"
    )
    assert not registry.exists()


def hub_command() -> list[str]:
    return [str(Path(sys.executable).with_name("hub"))]


def test_publish_keeps_title_and_modes(tmp_path):
    created = CliRunner().invoke(
        new_command,
        ["--no-input", "--output-dir", str(tmp_path), "--name", "acme_bi"]
        + ["--title", "Acme BI", "--base-url", "https://api.acme.test"],
    )
    registry = tmp_path / "market" / "registry.json"
    project = tmp_path / "secoda-connector-acme-bi"

    published = run_hub_process(
        "publish", str(project), "--registry", str(registry), umask=0o022
    )

    assert created.exit_code == 0, created.output
    assert published.returncode == 0, published.stderr
    [stored] = json.loads(registry.read_text())["connectors"]
    assert stored["title"] == "Acme BI"
    [wheel] = (registry.parent / "wheels").iterdir()
    assert stat.S_IMODE(registry.stat().st_mode) == 0o644
    assert stat.S_IMODE(wheel.stat().st_mode) == 0o644


def wait_for_build_environment(directory: Path, process) -> bool:
    """Wait until `python -m build` has created its build-env-* directory."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if any(directory.rglob("build-env-*")):
            return True
        time.sleep(0.05)
    return False


def test_sigint_during_build_cleans_up(tmp_path):
    registry = tmp_path / "registry.json"
    write_registry_file(registry, Registry())
    before = registry.read_bytes()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    project = write_project(tmp_path, "sample")

    process = subprocess.Popen(
        hub_command() + ["publish", str(project), "--registry", str(registry)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    try:
        building = wait_for_build_environment(temporary, process)
        # Only the hub gets the signal, unlike Ctrl-C in a terminal, which
        # reaches every process of the foreground group.
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        process.wait()

    assert building, "the build never created its environment"
    assert process.returncode == 130
    assert stderr == (
        "Error: interrupted; the registry file either is unchanged or holds "
        "the new version\n"
    )
    assert registry.read_bytes() == before
    assert sorted(path.name for path in temporary.iterdir()) == []


def test_uninstallable_wheel_names_the_step(tmp_path):
    wheel = tmp_path / "broken-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not a zip archive")

    with pytest.raises(PublishError) as raised:
        load_in_fresh_environment(wheel, "broken:Integration")

    message = str(raised.value)
    assert message.startswith(
        "preparing a fresh environment to load broken-0.1.0-py3-none-any.whl "
        "failed: `python"
    )
    assert " -m pip` exited with status " in message
    assert "check that the wheel installs with pip" in message
