"""``hub credentials`` commands, ``hub show`` and the keyring on a headless host."""

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import run_hub_process
from hub.cli.credentials import credentials_group
from hub.cli.show import show_command
from hub.credentials import env_name
from hub.credentials.encryption import KEY_ENV
from secoda_connector_cluvio.testserver import DEFAULT_EMAIL, DEFAULT_PASSWORD

NO_CHECK_CONNECTOR = """\
from hub.sdk import SecodaIntegration

class Quiet(SecodaIntegration):
    def extract(self):
        pass
"""

PRINTING_CHECK_CONNECTOR = """\
from hub.sdk import SecodaIntegration

class Chatty(SecodaIntegration):
    def extract(self):
        pass

    def check_connection(self):
        print("checking with", self.credentials["token"])
"""


@pytest.fixture
def creds():
    """Invoke ``hub credentials`` in process and return the click result."""

    def invoke(*args: str, input: str | None = None):
        runner = CliRunner()
        return runner.invoke(
            credentials_group, list(args), input=input, catch_exceptions=False
        )

    return invoke


def stored_document(hub_home: Path) -> dict:
    return json.loads((hub_home / "config" / "credentials.json").read_text())


def stored_profile(hub_home: Path, connector: str, profile: str = "default"):
    return stored_document(hub_home)["connectors"][connector][profile]


def test_set_reads_json_stdin(creds, hub_home):
    values = {"email": "a=b@example.com", "password": 'p"w\nline2 ✓='}

    result = creds("set", "cluvio", "--stdin", input=json.dumps(values))

    assert result.exit_code == 0, result.output
    assert stored_profile(hub_home, "cluvio") == values


def test_set_reads_stdin_lines(creds, hub_home):
    text = "# comment\nemail=me@example.com\n\npassword=a=b 'c' \"d\" Ω\n"

    result = creds("set", "cluvio", "--profile", "eu", "--stdin", input=text)

    assert result.exit_code == 0, result.output
    assert stored_profile(hub_home, "cluvio", "eu") == {
        "email": "me@example.com",
        "password": "a=b 'c' \"d\" Ω",
    }


def test_stdin_bad_line_hides_value(creds):
    result = creds("set", "cluvio", "--stdin", input="email=a@b.c\nhunter-secret\n")

    assert result.exit_code == 2
    assert "line 2 of standard input" in result.stderr
    assert "hunter-secret" not in result.output


def test_stdin_rejects_non_string(creds):
    result = creds("set", "cluvio", "--stdin", input='{"email": 5}')

    assert result.exit_code == 2
    assert "email" in result.stderr
    assert "string" in result.stderr


def test_stdin_unknown_field_rejected(creds):
    result = creds("set", "cluvio", "--stdin", input='{"passwrd": "x1x1"}')

    assert result.exit_code == 2
    assert "'passwrd'" in result.stderr
    assert "email, password, base_url" in result.stderr


def test_set_from_env_prefix(creds, hub_home, monkeypatch):
    monkeypatch.setenv(env_name("cluvio", "eu", "email"), "env@example.com")
    monkeypatch.setenv(env_name("cluvio", "eu", "password"), "env-pass-1")

    result = creds("set", "cluvio", "--profile", "eu", "--from-env")

    assert result.exit_code == 0, result.output
    assert stored_profile(hub_home, "cluvio", "eu") == {
        "email": "env@example.com",
        "password": "env-pass-1",
    }


def test_from_env_rejects_unknown_field(creds, hub_home, monkeypatch):
    monkeypatch.setenv(env_name("cluvio", "s3", "email"), "env@example.com")
    monkeypatch.setenv(env_name("cluvio", "s3", "bogus"), "bogus-never-1")

    from_env = creds("set", "cluvio", "--profile", "s3", "--from-env")
    monkeypatch.setenv("BOGUS_VARIABLE", "bogus-never-1")
    named = creds(
        "set", "cluvio", "--profile", "s3", "--env-var", "bogus=BOGUS_VARIABLE"
    )

    for result in (from_env, named):
        assert result.exit_code == 2, result.output
        assert "email, password, base_url" in result.stderr
        assert "bogus-never-1" not in result.output
    assert "SECODA_HUB_CRED__CLUVIO__S3__BOGUS names no credential field" in (
        from_env.stderr
    )
    assert not (hub_home / "config" / "credentials.json").exists()


def test_from_env_without_variables(creds):
    result = creds("set", "cluvio", "--from-env")

    assert result.exit_code == 2
    assert "SECODA_HUB_CRED__CLUVIO__DEFAULT__" in result.stderr


def test_set_from_named_variable(creds, hub_home, monkeypatch):
    monkeypatch.setenv("MY_CLUVIO_PASSWORD", "named-pass-1")

    result = creds(
        "set",
        "cluvio",
        "email=a@example.com",
        "--env-var",
        "password=MY_CLUVIO_PASSWORD",
    )

    assert result.exit_code == 0, result.output
    assert stored_profile(hub_home, "cluvio")["password"] == "named-pass-1"


def test_named_variable_missing(creds):
    result = creds("set", "cluvio", "--env-var", "password=NOT_SET_ANYWHERE")

    assert result.exit_code == 2
    assert "NOT_SET_ANYWHERE" in result.stderr


def test_set_warns_missing_required(creds):
    result = creds("set", "cluvio", "--stdin", input='{"email": "a@example.com"}')

    assert result.exit_code == 0
    assert "still needs password" in result.stderr


def test_allow_host_is_stored(creds, hub_home):
    result = creds(
        "set",
        "cluvio",
        "email=a@example.com",
        "password=pw-hosts-1",
        "--allow-host",
        "127.0.0.1:8123",
        "--allow-host",
        "EU.Example.com",
    )

    assert result.exit_code == 0, result.output
    document = stored_document(hub_home)
    assert document["allowed_hosts"]["cluvio"]["default"] == [
        "127.0.0.1:8123",
        "eu.example.com",
    ]
    assert "127.0.0.1" not in json.dumps(document["connectors"])


def test_allow_base_url_host(creds, hub_home):
    result = creds(
        "set",
        "cluvio",
        "--profile",
        "local",
        "email=a@example.com",
        "password=pw-base-1",
        "base_url=http://127.0.0.1:5999/api",
        "--allow-base-url-host",
    )

    assert result.exit_code == 0, result.output
    hosts = stored_document(hub_home)["allowed_hosts"]["cluvio"]["local"]
    assert hosts == ["127.0.0.1:5999"]


def test_allow_base_url_uses_default(creds, hub_home):
    result = creds(
        "set", "cluvio", "email=a@example.com", "password=pw-1", "--allow-base-url-host"
    )

    assert result.exit_code == 0, result.output
    hosts = stored_document(hub_home)["allowed_hosts"]["cluvio"]["default"]
    assert hosts == ["api.cluvio.com"]


def test_invalid_allow_host(creds):
    result = creds(
        "set", "cluvio", "email=a@example.com", "password=pw-1", "--allow-host", "a b"
    )

    assert result.exit_code == 2
    assert "'a b' is invalid" in result.stderr


def test_show_masks_and_lists_hosts(creds, monkeypatch):
    creds(
        "set",
        "cluvio",
        "email=a@example.com",
        "password=shown-never-1",
        "--allow-host",
        "127.0.0.1:8123",
    )
    monkeypatch.setenv(env_name("cluvio", "default", "email"), "env@example.com")

    result = creds("show", "cluvio", "--json")

    assert result.exit_code == 0, result.output
    assert "shown-never-1" not in result.output
    [profile] = json.loads(result.stdout)
    rows = {row["field"]: row for row in profile["fields"]}
    assert rows["password"] == {
        "field": "password",
        "value": "********",
        "source": "stored",
    }
    assert rows["email"]["value"] == "env@example.com"
    assert rows["email"]["source"] == "env"
    assert rows["base_url"]["source"] == "default"
    assert profile["allowed_hosts"] == ["127.0.0.1:8123"]


def test_show_text_lists_profiles(creds):
    creds("set", "cluvio", "email=a@example.com", "password=pw-default-1")
    creds("set", "cluvio", "--profile", "eu", "email=b@example.com", "password=pw-eu")

    result = creds("show", "cluvio")

    assert result.exit_code == 0, result.output
    assert "profile default" in result.stdout
    assert "profile eu" in result.stdout
    assert "pw-default-1" not in result.stdout
    assert "Allowed hosts: none" in result.stdout


def test_show_unknown_profile_fails(creds):
    result = creds("show", "cluvio")

    assert result.exit_code == 2
    assert "no credentials stored for 'cluvio'" in result.stderr


def test_list_json_masks(creds):
    creds("set", "cluvio", "email=a@example.com", "password=list-never-1")

    result = creds("list", "--json")

    assert result.exit_code == 0
    assert "list-never-1" not in result.output
    assert json.loads(result.stdout)[0]["fields"] == [
        {"field": "email", "value": "a@example.com", "source": "stored"},
        {"field": "password", "value": "********", "source": "stored"},
    ]


def test_list_and_show_share_fields_shape(creds):
    creds("set", "cluvio", "email=a@example.com", "password=shape-never-1")

    listed = json.loads(creds("list", "--json").stdout)[0]["fields"]
    shown = json.loads(creds("show", "cluvio", "--json").stdout)[0]["fields"]

    assert isinstance(listed, list)
    assert isinstance(shown, list)
    stored_rows = [row for row in shown if row["source"] == "stored"]
    assert sorted(listed, key=str) == sorted(stored_rows, key=str)
    assert "shape-never-1" not in json.dumps(listed) + json.dumps(shown)


def test_remove_one_profile(creds, hub_home):
    creds("set", "cluvio", "email=a@example.com", "password=pw-1")
    creds("set", "cluvio", "--profile", "eu", "email=b@example.com", "password=pw-2")

    result = creds("remove", "cluvio", "--profile", "eu")

    assert result.exit_code == 0
    assert list(stored_document(hub_home)["connectors"]["cluvio"]) == ["default"]


def test_env_backend_is_read_only(creds):
    result = creds("set", "cluvio", "email=a@example.com", "--backend", "env")

    assert result.exit_code == 2
    assert "read-only" in result.stderr


def test_env_backend_lists_variables(creds, monkeypatch):
    monkeypatch.setenv(env_name("cluvio", "eu", "password"), "env-never-1")

    result = creds("list", "--json", "--backend", "env")

    assert result.exit_code == 0
    assert "env-never-1" not in result.output
    assert json.loads(result.stdout)[0]["profile"] == "eu"


def test_generate_key_encrypts(creds, hub_home, monkeypatch):
    result = creds("generate-key")
    key = result.stdout.strip()
    monkeypatch.setenv(KEY_ENV, key)

    creds("set", "cluvio", "email=a@example.com", "password=enc-never-1")

    assert result.exit_code == 0
    assert KEY_ENV in result.stderr
    text = (hub_home / "config" / "credentials.json").read_text()
    assert "enc-never-1" not in text
    assert "a@example.com" in creds("show", "cluvio").stdout


def test_generate_key_without_cryptography(tmp_path):
    # The test environment has cryptography installed, so a package of the
    # same name that fails to import hides it, as if it were missing.
    shadow = tmp_path / "shadow" / "cryptography"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")

    result = run_hub_process(
        "credentials",
        "generate-key",
        env={"PYTHONPATH": str(shadow.parent)},
    )

    assert result.returncode == 2
    assert "is set" not in result.stderr
    assert "generating a key needs the cryptography package" in result.stderr
    assert "pip install 'secoda-hub[encryption]'" in result.stderr
    assert "pip install '.[encryption]'" in result.stderr
    assert result.stdout == ""


def test_connection_check_passes(creds, cluvio_server):
    creds(
        "set",
        "cluvio",
        f"email={DEFAULT_EMAIL}",
        f"password={DEFAULT_PASSWORD}",
        f"base_url={cluvio_server.url}",
        "--allow-base-url-host",
    )

    result = creds("test", "cluvio")

    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: cluvio accepted the credentials\n"
    assert DEFAULT_PASSWORD not in result.output


def test_connection_check_uses_run_allowlist(creds, cluvio_server):
    values = [f"email={DEFAULT_EMAIL}", f"password={DEFAULT_PASSWORD}"]
    creds("set", "cluvio", *values, f"base_url={cluvio_server.url}")
    host = cluvio_server.url.split("//")[1].split(":")[0]

    rejected = creds("test", "cluvio")
    host_added = creds("set", "cluvio", "--allow-host", host)
    allowed = creds("test", "cluvio")

    assert rejected.exit_code == 1
    assert rejected.stdout.startswith(f"failed: request to host '{host}'")
    assert "not on the connector's allowlist" in rejected.stdout
    assert f"hub credentials set cluvio --allow-host {host}" in rejected.stdout
    assert host_added.stdout.startswith("Stored allowed hosts for cluvio")
    assert f"Allowed hosts: {host}\n" in host_added.stdout
    assert allowed.exit_code == 0, allowed.output


def test_connection_check_fails(creds, cluvio_server):
    creds(
        "set",
        "cluvio",
        "--profile",
        "bad",
        f"email={DEFAULT_EMAIL}",
        "password=wrong-password-1",
        f"base_url={cluvio_server.url}",
        "--allow-base-url-host",
    )

    result = creds("test", "cluvio", "--profile", "bad")

    assert result.exit_code == 1
    assert result.stdout.startswith("failed: sign-in failed")
    assert "hub credentials set cluvio --profile bad" in result.stdout
    assert "wrong-password-1" not in result.output


def test_connection_check_print_redacted(creds, tmp_path):
    connector = tmp_path / "chatty.py"
    connector.write_text(PRINTING_CHECK_CONNECTOR)
    creds("set", str(connector), "token=chatty-secret-1")

    result = creds("test", str(connector))

    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: chatty accepted the credentials\n"
    assert "checking with [redacted]" in result.stderr
    assert "chatty-secret-1" not in result.output


def test_connection_check_undefined(creds, tmp_path):
    connector = tmp_path / "quiet.py"
    connector.write_text(NO_CHECK_CONNECTOR)
    creds("set", str(connector), "token=quiet-1")

    result = creds("test", str(connector))

    assert result.exit_code == 2
    assert result.stdout == "quiet defines no connection check\n"


def test_connection_check_missing_values(creds):
    result = creds("test", "cluvio", "--profile", "nothing")

    assert result.exit_code == 2
    assert "missing credentials" in result.stderr


def test_hub_show_cluvio_json():
    result = CliRunner().invoke(show_command, ["cluvio", "--json"])

    assert result.exit_code == 0, result.output
    details = json.loads(result.stdout)
    assert details["distribution"] == "secoda-connector-cluvio"
    assert details["allowed_hosts"] == ["api.cluvio.com", "*.cluvio.com"]
    assert details["description"].startswith("Cluvio dashboards")
    password = details["credential_fields"][1]
    assert password["name"] == "password"
    assert password["secret"] is True


def test_hub_show_table():
    result = CliRunner().invoke(show_command, ["cluvio"])

    assert result.exit_code == 0, result.output
    assert "allowed hosts  api.cluvio.com, *.cluvio.com" in result.stdout
    assert "Cluvio password" in result.stdout
    assert "the API server of your account's location" in result.stdout


def test_hub_show_undeclared_file(tmp_path):
    connector = tmp_path / "quiet.py"
    connector.write_text(NO_CHECK_CONNECTOR)

    result = CliRunner().invoke(show_command, [str(connector)])

    assert result.exit_code == 0, result.output
    assert "none declared; any FIELD=VALUE is accepted" in result.stdout


def test_hub_show_unknown_connector():
    result = CliRunner().invoke(show_command, ["nothing-here"])

    assert result.exit_code == 2
    assert "no connector named 'nothing-here'" in result.stderr


def run_cli_process(args, env, cwd=None):
    return subprocess.run(
        [str(Path(sys.executable).with_name("hub")), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
    )


def headless_environment(tmp_path) -> dict:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")
    }
    # A keyringrc.cfg in the user's own configuration could select a backend.
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    return env


def test_headless_keyring_names_next_step(tmp_path):
    env = headless_environment(tmp_path)
    env["SECODA_HUB_CREDENTIAL_BACKEND"] = "keyring"

    result = run_cli_process(["credentials", "set", "cluvio", "email=a@b.io"], env)

    if result.returncode == 0:
        pytest.skip("this machine has a keyring backend that works headless")
    assert result.returncode == 2
    assert "no usable system keyring" in result.stderr
    assert "--backend file" in result.stderr
    assert not (Path(env["SECODA_HUB_HOME"]) / "config" / "credentials.json").exists()


def test_headless_list_still_works(tmp_path):
    env = headless_environment(tmp_path)
    env["SECODA_HUB_CREDENTIAL_BACKEND"] = "keyring"

    result = run_cli_process(["list", "--json"], env)

    assert result.returncode == 0, result.stderr
    assert "cluvio" in [row["name"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize("args", [["--help"], ["list"]], ids=["help", "list"])
def test_keyring_not_imported(args, tmp_path):
    env = headless_environment(tmp_path)
    env["SECODA_HUB_CREDENTIAL_BACKEND"] = "keyring"
    script = (
        "import sys\nfrom hub.cli import cli\n"
        f"try:\n    cli.main({args!r}, prog_name='hub')\n"
        "except SystemExit:\n    pass\n"
        "print('keyring' in sys.modules, file=sys.stderr)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )

    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr


def test_concurrent_sets_both_persist(tmp_path, hub_home):
    hub_script = str(Path(sys.executable).with_name("hub"))
    env = {**os.environ, "SECODA_HUB_HOME": str(hub_home)}
    names = [f"conn{index}" for index in range(6)]
    for name in names:
        (tmp_path / f"{name}.py").write_text(NO_CHECK_CONNECTOR)

    # Pairs start together, so their read-modify-write cycles overlap.
    for first, second in zip(names[::2], names[1::2], strict=True):
        processes = [
            subprocess.Popen(
                [hub_script, "credentials", "set", f"./{name}.py", f"token={name}-v"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for name in (first, second)
        ]
        for process in processes:
            process.communicate(timeout=60)
            assert process.returncode == 0

    connectors = stored_document(hub_home)["connectors"]
    for name in names:
        assert connectors[name] == {"default": {"token": f"{name}-v"}}


def read_until(descriptor: int, marker: bytes, transcript: bytearray) -> None:
    """Append terminal output to ``transcript`` until ``marker`` appears."""
    deadline = time.monotonic() + 30
    while marker not in transcript:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {marker!r}: {transcript!r}"
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if ready:
            try:
                chunk = os.read(descriptor, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            transcript.extend(chunk)


def test_prompt_hides_secret_on_terminal(tmp_path):
    """Type the values into a real pseudo-terminal, as a user would."""
    env = {**os.environ, "SECODA_HUB_HOME": str(tmp_path / "home")}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("hub")), "credentials", "set", "cluvio"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    transcript = bytearray()
    try:
        read_until(controller, b"Cluvio account email", transcript)
        os.write(controller, b"typed@example.com\r")
        read_until(controller, b"Cluvio password", transcript)
        os.write(controller, "typed-sécret-4417\r".encode())
        read_until(controller, b"API base URL", transcript)
        os.write(controller, b"\r")
        read_until(controller, b"Stored", transcript)
        assert process.wait(timeout=30) == 0, transcript.decode(errors="replace")
    finally:
        process.kill()
        process.wait()
        os.close(controller)

    text = transcript.decode(errors="replace")
    assert "typed@example.com" in text
    assert "typed-sécret-4417" not in text
    stored = json.loads((tmp_path / "home/config/credentials.json").read_text())
    assert stored["connectors"]["cluvio"]["default"]["password"] == "typed-sécret-4417"


@pytest.mark.parametrize(
    "args",
    [
        ["credentials", "list"],
        ["credentials", "list", "--json"],
        ["credentials", "show", "cluvio"],
        ["credentials", "set", "cluvio", "email=a@b.io"],
        ["credentials", "remove", "cluvio"],
        ["run", "cluvio"],
    ],
    ids=["list", "list-json", "show", "set", "remove", "run"],
)
@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"connectors": {"cluvio": "x"}, "format": 1},
            "$.connectors.cluvio is a string, expected an object",
        ),
        (
            {
                "format": 1,
                "connectors": {"cluvio": {"default": {"password": 12345}}},
                "allowed_hosts": {"cluvio": {"default": "127.0.0.1"}},
            },
            "$.connectors.cluvio.default.password is a number, expected a string; "
            "$.allowed_hosts.cluvio.default is a string, expected a list",
        ),
    ],
    ids=["profiles-string", "value-number"],
)
def test_misshapen_store_exits_cleanly(args, document, problem, hub_home):
    path = hub_home / "config" / "credentials.json"
    path.parent.mkdir(mode=0o700, parents=True)
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    before = path.read_bytes()

    result = run_cli_process(args, os.environ)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"credential store {path} has an invalid layout" in result.stderr
    assert problem in result.stderr
    assert "move it away and store the values again" in result.stderr
    assert "12345" not in result.stderr + result.stdout
    assert path.read_bytes() == before
