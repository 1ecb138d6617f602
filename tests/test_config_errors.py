"""Wrong settings and stored files: exit status 2 and a message, no traceback.

Each case runs the real ``hub`` command in a child process.
"""

import os
import stat

import pytest

from conftest import run_hub_process

# Commands that read the credential store or the hub's home directory.
STORE_COMMANDS = {
    "credentials-list": ("credentials", "list"),
    "credentials-set": ("credentials", "set", "cluvio", "email=a", "password=b"),
    "run": ("run", "cluvio"),
}


def assert_configuration_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.mark.parametrize("command", STORE_COMMANDS.values(), ids=STORE_COMMANDS)
def test_store_not_utf8(hub_home, command):
    store = hub_home / "config" / "credentials.json"
    store.parent.mkdir(parents=True)
    content = b'{"format": 1, "connectors": {"\xff": {}}}\n'
    store.write_bytes(content)
    store.chmod(0o600)

    result = run_hub_process(*command)

    assert_configuration_error(
        result,
        f"credential store {store} is not UTF-8 text",
        "byte 0xff at offset 30",
        "Save it as UTF-8",
    )
    assert store.read_bytes() == content


@pytest.mark.parametrize("mode", [0o700, 0o755], ids=oct)
@pytest.mark.parametrize("command", STORE_COMMANDS.values(), ids=STORE_COMMANDS)
def test_store_is_directory(hub_home, command, mode):
    store = hub_home / "config" / "credentials.json"
    store.mkdir(parents=True)
    store.chmod(mode)

    result = run_hub_process(*command)

    assert_configuration_error(result, f"credential store {store} is a directory")
    assert "readable by other users" not in result.stderr
    assert store.is_dir()
    assert os.listdir(store) == []


HOME_COMMANDS = {
    **STORE_COMMANDS,
    "runs": ("runs",),
    "catalog-resources": ("catalog", "resources"),
    "catalog-migrate": ("catalog", "migrate"),
}


@pytest.mark.parametrize("below", [False, True], ids=["file", "below-file"])
@pytest.mark.parametrize("command", HOME_COMMANDS.values(), ids=HOME_COMMANDS)
def test_home_is_file(tmp_path, command, below):
    home_file = tmp_path / "home-file"
    home_file.write_text("not a directory\n")
    home = home_file / "sub" if below else home_file

    result = run_hub_process(*command, env={"SECODA_HUB_HOME": str(home)})

    assert_configuration_error(
        result,
        f"SECODA_HUB_HOME is set to '{home}', but '{home_file}' is a file, "
        "not a directory",
    )
    assert home_file.read_text() == "not a directory\n"


@pytest.mark.parametrize("limit", ["99999999999999999999999", "10000001", "0"])
def test_resources_limit_out_of_range(limit):
    result = run_hub_process("catalog", "resources", "--limit", limit)

    assert_configuration_error(
        result, f"Invalid value for '--limit': {limit} is not in the range"
    )


@pytest.fixture
def without_psycopg(tmp_path):
    """Return an environment in which ``import psycopg`` fails as if absent."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "psycopg.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    return {"PYTHONPATH": str(shadow)}


@pytest.mark.parametrize(
    "command",
    [("runs",), ("catalog", "resources"), ("run", "QUIET")],
    ids=["runs", "catalog-resources", "run"],
)
def test_postgresql_without_psycopg(tmp_path, without_psycopg, command):
    quiet = tmp_path / "quiet.py"
    quiet.write_text(
        "from hub.sdk import SecodaIntegration\n\n\n"
        "class Quiet(SecodaIntegration):\n"
        "    def extract(self):\n"
        "        pass\n"
    )
    arguments = [str(quiet) if part == "QUIET" else part for part in command]
    url = "postgresql://hub:secret-pw@127.0.0.1:9/catalog"

    result = run_hub_process(*arguments, "--catalog", url, env=without_psycopg)

    assert_configuration_error(
        result,
        "needs psycopg 3, which is not installed",
        "pip install 'secoda-hub[postgresql]'",
        "pip install '.[postgresql]'",
    )
    assert "secret-pw" not in result.stderr


def test_store_mode_still_checked(hub_home):
    # The directory check comes first, but a readable file is still rejected.
    store = hub_home / "config" / "credentials.json"
    store.parent.mkdir(parents=True)
    store.write_text('{"format": 1, "connectors": {}}\n')
    store.chmod(0o644)

    result = run_hub_process("credentials", "list")

    assert_configuration_error(result, "is readable by other users")
    assert stat.S_IMODE(store.stat().st_mode) == 0o644
