"""Finding connectors: file connectors, name conflicts and the hook contract."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_hub_process
from hub import hookspecs
from hub.connectors import entry_from_file, is_file_spec, load_class
from hub.errors import ConnectorLoadError, ConnectorNotFoundError

TWO_CLASSES = """
from hub.sdk import SecodaIntegration


class First(SecodaIntegration):
    def extract(self):
        pass


class Second(SecodaIntegration):
    def extract(self):
        pass
"""


def test_file_spec_detection():
    assert is_file_spec("./x.py")
    assert is_file_spec("dir/x")
    assert is_file_spec("x.py:Cls")
    assert not is_file_spec("cluvio")


def test_file_name_becomes_connector_name(tmp_path):
    entry = entry_from_file(str(tmp_path / "My-Integration.py"))

    assert entry.name == "my_integration"
    assert entry.origin == "file"


def test_missing_file_is_reported(tmp_path):
    entry = entry_from_file(str(tmp_path / "absent.py"))

    with pytest.raises(ConnectorNotFoundError, match="does not exist"):
        load_class(entry)


def test_missing_file_exits_2(tmp_path, hub):
    result = hub("run", str(tmp_path / "absent.py"))

    assert result.exit_code == 2
    assert "absent.py" in result.stderr


def test_class_choice_names_connector(tmp_path):
    entry = entry_from_file(f"{tmp_path / 'two.py'}:Second")

    assert entry.name == "two_second"


def test_several_classes_need_a_choice(tmp_path):
    path = tmp_path / "two.py"
    path.write_text(TWO_CLASSES)

    with pytest.raises(ConnectorLoadError, match="two.py:ClassName"):
        load_class(entry_from_file(str(path)))
    assert load_class(entry_from_file(f"{path}:Second")).__name__ == "Second"


def test_secodadk_import_gets_hint(tmp_path):
    path = tmp_path / "old.py"
    path.write_text("from secodadk import SecodaIntegration\n")

    with pytest.raises(ConnectorLoadError, match="from hub.sdk import"):
        load_class(entry_from_file(str(path)))


def test_import_error_names_file(tmp_path, hub):
    path = tmp_path / "broken.py"
    path.write_text("raise ValueError('broken on purpose')\n")

    result = hub("run", str(path))

    assert result.exit_code == 1
    assert "broken.py failed to import: ValueError: broken on purpose" in result.stderr


def test_list_shows_cluvio(hub):
    result = hub("list", "--json", "--check")

    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["cluvio"]["distribution"] == "secoda-connector-cluvio"
    assert rows["cluvio"]["status"] == "ok"


# Runs one hub command in a fresh interpreter and reports what it imported.
IMPORT_PROBE = """
import json, sys
from click.testing import CliRunner
from hub.cli import cli

result = CliRunner().invoke(cli, sys.argv[1:])
watched = ("secoda_connector_cluvio", "pydantic", "httpx")
imported = sorted(
    name for name in sys.modules if name.split(".")[0] in watched
)
print(json.dumps({"exit_code": result.exit_code, "imported": imported}))
"""


def imports_of(*args):
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout.splitlines()[-1])


def test_list_imports_no_connector():
    probe = imports_of("list", "--json")

    assert probe["exit_code"] == 0
    assert probe["imported"] == []


def test_list_check_imports_connector():
    probe = imports_of("list", "--check", "--json")

    assert probe["exit_code"] == 0
    assert "secoda_connector_cluvio.connector" in probe["imported"]


def test_blocked_connector_is_hidden(hub, monkeypatch):
    monkeypatch.setenv("SECODA_HUB_BLOCK", "cluvio")

    result = hub("list", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


HOOKS = [
    (name, function)
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("hub_")
]


@pytest.mark.parametrize("name,function", HOOKS, ids=[name for name, _ in HOOKS])
def test_hook_is_called(name, function):
    # A hook the hub never calls would let a plugin implement it for nothing.
    package = Path(hookspecs.__file__).parent
    sources = [path.read_text() for path in package.rglob("*.py")]

    assert any(f"hook.{name}(" in source for source in sources), name


@pytest.mark.parametrize("name,function", HOOKS, ids=[name for name, _ in HOOKS])
def test_hook_is_documented(name, function):
    doc = inspect.getdoc(function) or ""

    assert doc.splitlines()[0].endswith("."), name
    assert ":return:" in doc, name
    for parameter in inspect.signature(function).parameters:
        assert f":param {parameter}:" in doc, (name, parameter)


# A second distribution that registers the name "cluvio", and prints the
# password it receives so a test can tell whether credentials reached it.
IMPOSTOR_MODULE = """
from hub.sdk import CredentialField, SecodaIntegration


class Impostor(SecodaIntegration):
    credential_fields = (CredentialField("password"),)

    def check_connection(self):
        print("IMPOSTOR GOT", self.credentials["password"])

    def extract(self):
        print("IMPOSTOR GOT", self.credentials["password"])
"""

IMPOSTOR_PASSWORD = "impostor-must-not-see-this"


def write_distribution(site: Path, name: str, module: str, source: str, groups: dict):
    """Write an installed distribution (module and dist-info) into ``site``."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n"
    )
    sections = [
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in items.items())
        for group, items in groups.items()
    ]
    (info / "entry_points.txt").write_text("\n".join(sections))


@pytest.fixture
def impostor(tmp_path):
    """Return the environment in which two distributions provide "cluvio"."""
    site = tmp_path / "site"
    site.mkdir()
    write_distribution(
        site,
        "secoda-connector-impostor",
        "impostor",
        IMPOSTOR_MODULE,
        {"secoda.connectors": {"cluvio": "impostor:Impostor"}},
    )
    stored = run_hub_process(
        "credentials",
        "set",
        "cluvio",
        "email=me@example.com",
        f"password={IMPOSTOR_PASSWORD}",
        "base_url=http://127.0.0.1:9",
        "--allow-base-url-host",
    )
    assert stored.returncode == 0, stored.stderr
    return {"PYTHONPATH": str(site)}


def test_ambiguous_name_listed_as_conflict(impostor):
    result = run_hub_process("list", "--json", env=impostor)

    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(row["distribution"], row["status"]) for row in rows] == [
        ("secoda-connector-impostor", "conflict"),
        ("secoda-connector-cluvio", "conflict"),
    ]
    assert "SECODA_HUB_BLOCK" in rows[0]["error"]


@pytest.mark.parametrize(
    "command",
    [("run", "cluvio"), ("show", "cluvio"), ("credentials", "test", "cluvio")],
    ids=["run", "show", "credentials-test"],
)
def test_ambiguous_name_exits_2(impostor, command):
    result = run_hub_process(*command, env=impostor)

    assert result.returncode == 2
    assert "provided by 2 installed distributions" in result.stderr
    assert "secoda-connector-impostor 0.1" in result.stderr
    assert "secoda-connector-cluvio 0.1.0" in result.stderr
    assert "pip uninstall" in result.stderr
    assert "SECODA_HUB_BLOCK" in result.stderr
    assert "IMPOSTOR GOT" not in result.stdout + result.stderr
    assert IMPOSTOR_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "item", ["secoda-connector-impostor", "Secoda_Connector.Impostor"]
)
def test_block_by_distribution_resolves(impostor, item):
    result = run_hub_process(
        "show", "cluvio", "--json", env={**impostor, "SECODA_HUB_BLOCK": item}
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["distribution"] == "secoda-connector-cluvio"


def test_blocked_name_reported_as_blocked():
    result = run_hub_process("run", "cluvio", env={"SECODA_HUB_BLOCK": "x, cluvio"})

    assert result.returncode == 2
    assert "no connector named" not in result.stderr
    assert (
        "connector 'cluvio' is installed (secoda-connector-cluvio 0.1.0) but "
        "blocked by SECODA_HUB_BLOCK, which lists 'cluvio'"
    ) in result.stderr


def test_plugin_blocked_by_distribution(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    write_distribution(
        site,
        "hub-broken-plugin",
        "broken_plugin",
        "raise ImportError('broken on purpose')\n",
        {"secoda.hub.plugins": {"broken": "broken_plugin"}},
    )
    environment = {"PYTHONPATH": str(site)}

    loaded = run_hub_process("list", env=environment)
    blocked = run_hub_process(
        "list", env={**environment, "SECODA_HUB_BLOCK": "hub-broken-plugin"}
    )

    assert "hub plugin broken (hub-broken-plugin) failed to load" in loaded.stderr
    assert blocked.returncode == 0
    assert "broken" not in blocked.stderr


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("./leak.py:", "'./leak.py:' names no class after ':'"),
        ("./leak.py:Foo Bar", "'Foo Bar' after ':' in './leak.py:Foo Bar' is not"),
    ],
    ids=["empty", "not-identifier"],
)
@pytest.mark.parametrize("command", ["run", "show"])
def test_bad_class_after_colon(tmp_path, command, spec, expected):
    result = run_hub_process(command, spec, cwd=tmp_path)

    assert result.returncode == 2
    assert expected in result.stderr
    assert "./leak.py:ClassName" in result.stderr
    assert "does not exist" not in result.stderr
