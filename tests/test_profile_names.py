"""Profile names, and the commands the hub suggests, in a real shell's terms.

A profile name must be a plain name, because it appears in suggested
commands and variable names. Every suggested ``hub credentials set``
command quotes each argument, so it pastes into a POSIX shell as the
arguments it shows.
"""

import json
import shlex

import pytest
from click.testing import CliRunner

from conftest import PASSWORD_CONNECTOR, run_hub_process
from hub.cli import cli
from hub.connectors import entry_from_file
from hub.runner import point_hints_at_profile


@pytest.mark.parametrize(
    "profile",
    ["", "eu west", "a;touch x", "x" * 65, "ünï", "eu\nwest"],
    ids=["empty", "space", "semicolon", "too-long", "non-ascii", "newline"],
)
def test_set_rejects_bad_profile(password_connector, hub_home, profile):
    result = run_hub_process(
        "credentials",
        "set",
        str(password_connector),
        "--profile",
        profile,
        "password=x",
    )

    assert result.returncode == 2
    assert "Invalid value for '--profile'" in result.stderr
    assert "1 to 64 ASCII letters, digits, '_', '-' or '.'" in result.stderr
    assert not (hub_home / "config" / "credentials.json").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["run", "{leak}"],
        ["credentials", "test", "{leak}"],
        ["credentials", "show", "{leak}"],
        ["credentials", "remove", "{leak}"],
    ],
    ids=["run", "test", "show", "remove"],
)
def test_commands_reject_bad_profile(password_connector, command):
    args = [arg.format(leak=password_connector) for arg in command]

    result = run_hub_process(*args, "--profile", "eu west")

    assert result.returncode == 2
    assert "Invalid value for '--profile'" in result.stderr


def test_good_profile_names_accepted(password_connector, hub_home):
    result = run_hub_process(
        "credentials",
        "set",
        str(password_connector),
        "--profile",
        "eu-west_2.b",
        "base_url=http://x",
        "password=x",
    )

    assert result.returncode == 0, result.stderr
    stored = json.loads((hub_home / "config" / "credentials.json").read_text())
    assert list(stored["connectors"]["leak"]) == ["eu-west_2.b"]


def suggested_command(text: str) -> list[str]:
    """Return the argv of the first `hub credentials set ...` in backquotes."""
    start = text.index("`hub credentials set")
    return shlex.split(text[start + 1 : text.index("`", start + 1)])


FETCH_CONNECTOR = """\
from hub.sdk import CredentialField, SecodaIntegration


class Fetch(SecodaIntegration):
    credential_fields = (CredentialField("token", secret=True),)

    def extract(self):
        self.http_get("http://127.0.0.1:9/none")
"""


def connector_in_odd_folder(tmp_path, source: str):
    """Write a connector into a folder whose name needs shell quoting."""
    folder = tmp_path / "sp ace; x"
    folder.mkdir()
    connector = folder / "leak.py"
    connector.write_text(source)
    return connector


def test_missing_hint_quotes_path(tmp_path):
    connector = connector_in_odd_folder(tmp_path, PASSWORD_CONNECTOR)

    result = run_hub_process("run", str(connector), "--profile", "eu")

    assert result.returncode == 2
    command = suggested_command(result.stderr)
    assert command == ["hub", "credentials", "set", str(connector), "--profile", "eu"]


def test_show_hint_quotes_path(tmp_path):
    connector = connector_in_odd_folder(tmp_path, PASSWORD_CONNECTOR)

    result = run_hub_process("credentials", "show", str(connector))

    assert result.returncode == 2
    assert suggested_command(result.stderr) == [
        "hub",
        "credentials",
        "set",
        str(connector),
    ]


def test_egress_hint_quotes_path(tmp_path):
    connector = connector_in_odd_folder(tmp_path, FETCH_CONNECTOR)
    stored = CliRunner().invoke(
        cli, ["credentials", "set", str(connector), "--profile", "eu", "token=abc1"]
    )
    assert stored.exit_code == 0, stored.output

    result = run_hub_process("run", str(connector), "--profile", "eu")

    assert result.returncode == 1
    command = suggested_command(result.stderr)
    assert command[:6] == [
        "hub",
        "credentials",
        "set",
        str(connector),
        "--profile",
        "eu",
    ]
    assert command[6:] == ["--allow-host", "127.0.0.1"]


@pytest.mark.parametrize(
    "given",
    [
        "hub credentials set leak --profile 'eu west'",
        "hub credentials set leak --profile 'it'\"'\"'s'",
        "hub credentials set leak --profile old",
        "hub credentials set leak",
    ],
    ids=["quoted", "quote-inside", "plain", "no-profile"],
)
def test_profile_hint_replaced_whole(password_connector, given):
    entry = entry_from_file(str(password_connector))
    target = shlex.quote(str(password_connector))

    message = point_hints_at_profile(f"Store them with `{given}`.", entry, "eu")

    assert message == f"Store them with `hub credentials set {target} --profile eu`."
