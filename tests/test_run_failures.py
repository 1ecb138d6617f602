"""How ``hub run`` reports failures, interrupts and hints, in a real process."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import run_hub_process
from hub.credentials import env_name
from secoda_connector_cluvio.testserver import DEFAULT_EMAIL, DEFAULT_PASSWORD

EXITING_CONNECTOR = textwrap.dedent(
    """
    import sys

    from hub.sdk import Resource, SecodaIntegration


    class Exiting(SecodaIntegration):
        def extract(self):
            self.declare_resource(Resource(entity_type="chart", databuilder_id="c"))
            sys.exit(3)
    """
)

# Declares one resource, writes the file named by READY_FILE, then sleeps
# until the test interrupts it.
SLEEPING_CONNECTOR = textwrap.dedent(
    """
    import os
    import pathlib
    import time

    from hub.sdk import Resource, SecodaIntegration


    class Sleeping(SecodaIntegration):
        def extract(self):
            self.declare_resource(Resource(entity_type="chart", databuilder_id="c"))
            pathlib.Path(os.environ["READY_FILE"]).write_text("ready")
            time.sleep(60)
    """
)

TWO_CLASSES = textwrap.dedent(
    """
    from hub.sdk import SecodaIntegration


    class A(SecodaIntegration):
        def extract(self):
            pass


    class B(SecodaIntegration):
        def extract(self):
            pass
    """
)

# Declares as many dashboards as its "count" credential sets.
COUNTING_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import CredentialField, Resource, SecodaIntegration


    class Counting(SecodaIntegration):
        credential_fields = (CredentialField("count", secret=False),)

        def extract(self):
            for number in range(int(self.credentials["count"])):
                self.declare_resource(
                    Resource(entity_type="dashboard", databuilder_id=f"d.{number}")
                )
    """
)


def write_connector(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(source)
    return path


def catalog_runs(hub_home: Path) -> list[tuple]:
    path = hub_home / "data" / "catalog.sqlite"
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT status, error FROM runs ORDER BY id")
        result = rows.fetchall()
    connection.close()
    return result


def test_sys_exit_is_connector_failure(tmp_path, hub_home):
    path = write_connector(tmp_path, "exiting", EXITING_CONNECTOR)

    result = run_hub_process("run", str(path))

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: connector 'exiting' failed: the connector called sys.exit(3)"
    )
    assert catalog_runs(hub_home) == [("failed", "the connector called sys.exit(3)")]


def test_sys_exit_json_reports_failure(tmp_path):
    path = write_connector(tmp_path, "exiting", EXITING_CONNECTOR)

    result = run_hub_process("run", str(path), "--json")

    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert summary["resources"] == 1


def test_sigint_exits_130_with_summary(tmp_path, hub_home):
    path = write_connector(tmp_path, "sleeping", SLEEPING_CONNECTOR)
    ready = tmp_path / "ready"
    hub = Path(sys.executable).with_name("hub")
    process = subprocess.Popen(
        [str(hub), "run", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "READY_FILE": str(ready)},
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the connector never started"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130, stderr
    summary = json.loads(stdout)
    assert summary["status"] == "failed"
    assert summary["error"] == "interrupted"
    assert summary["resources"] == 1
    assert "was interrupted" in stderr
    assert "Aborted" not in stderr
    assert catalog_runs(hub_home) == [("failed", "interrupted")]


def test_run_help_names_exit_130():
    result = run_hub_process("run", "--help")

    assert result.returncode == 0
    assert "130 when Ctrl-C interrupted the run" in " ".join(result.stdout.split())


def store_cluvio(profile: str, *values: str) -> None:
    result = run_hub_process(
        "credentials", "set", "cluvio", "--profile", profile, *values
    )
    assert result.returncode == 0, result.stderr


def test_sign_in_hint_names_profile(cluvio_server):
    store_cluvio(
        "bad",
        f"email={DEFAULT_EMAIL}",
        "password=not-the-password",
        f"base_url={cluvio_server.url}",
        "--allow-base-url-host",
    )

    result = run_hub_process("run", "cluvio", "--profile", "bad")

    assert result.returncode == 1
    assert "sign-in failed" in result.stderr
    assert "`hub credentials set cluvio --profile bad`" in result.stderr


def test_missing_credentials_hint_names_profile(cluvio_server):
    result = run_hub_process("run", "cluvio", "--profile", "other")

    assert result.returncode == 2
    assert "`hub credentials set cluvio --profile other`" in result.stderr


def test_missing_credentials_prints_json(cluvio_server):
    result = run_hub_process("run", "cluvio", "--profile", "other", "--json")

    summary = json.loads(result.stdout)
    assert result.returncode == 2
    assert summary["status"] == "failed"
    assert summary["run_id"] is None
    assert summary["profile"] == "other"
    assert "`hub credentials set cluvio --profile other`" in summary["error"]


def test_allowlist_hint_names_profile(cluvio_server):
    store_cluvio(
        "eu",
        f"email={DEFAULT_EMAIL}",
        f"password={DEFAULT_PASSWORD}",
        f"base_url={cluvio_server.url}",
    )
    host = cluvio_server.url.split("//")[1].split(":")[0]

    result = run_hub_process("run", "cluvio", "--profile", "eu")

    assert result.returncode == 1
    assert f"hub credentials set cluvio --profile eu --allow-host {host}" in (
        result.stderr
    )


def test_file_connector_hint_names_path(tmp_path):
    path = write_connector(tmp_path, "counting", COUNTING_CONNECTOR)

    result = run_hub_process("run", str(path), "--profile", "p2")

    assert result.returncode == 2
    assert f"`hub credentials set {path} --profile p2`" in result.stderr


def test_stale_fail_safe_warned_once(tmp_path, monkeypatch):
    path = write_connector(tmp_path, "counting", COUNTING_CONNECTOR)
    variable = env_name("counting", "default", "count")
    monkeypatch.setenv(variable, "10")
    assert run_hub_process("run", str(path)).returncode == 0
    monkeypatch.setenv(variable, "2")

    result = run_hub_process("run", str(path))

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert output.count("the run would mark 8 of 10 resources stale") == 1
    assert "warning: the run would mark 8 of 10" in result.stderr
    resources_line = next(
        line
        for line in result.stdout.splitlines()
        if line.strip().startswith("resources") and "added" in line
    )
    assert resources_line.endswith("2 unchanged, 8 kept fresh by the fail-safe")


# Declares one resource, then removes the --output directory named by
# OUTPUT_DIR, with the run's partial files in it.
REMOVING_CONNECTOR = textwrap.dedent(
    """
    import os
    import shutil

    from hub.sdk import Resource, SecodaIntegration


    class Removing(SecodaIntegration):
        def extract(self):
            self.declare_resource(Resource(entity_type="chart", databuilder_id="c"))
            shutil.rmtree(os.environ["OUTPUT_DIR"])
    """
)


def test_unwritable_output_stops_run_first(tmp_path):
    path = write_connector(tmp_path, "counting", COUNTING_CONNECTOR)
    blocker = tmp_path / "file"
    blocker.write_text("")
    output = blocker / "upload"

    result = run_hub_process(
        "run",
        str(path),
        "--output",
        str(output),
        env={"SECODA_HUB_CRED__COUNTING__DEFAULT__COUNT": "1"},
    )
    history = run_hub_process("runs", "--json")

    assert result.returncode == 2
    assert result.stderr == (
        f"Error: cannot write the upload files into {str(output)!r}: Not a "
        "directory; pass a writable --output directory\n"
    )
    assert json.loads(history.stdout or "[]") == []


def test_failed_upload_files_keep_merged_sync(tmp_path):
    path = write_connector(tmp_path, "removing", REMOVING_CONNECTOR)
    output = tmp_path / "upload"
    environment = {"OUTPUT_DIR": str(output)}

    text = run_hub_process("run", str(path), "--output", str(output), env=environment)
    as_json = run_hub_process(
        "run", str(path), "--output", str(output), "--json", env=environment
    )
    history = json.loads(run_hub_process("runs", "--json").stdout)

    assert text.returncode == 1
    assert "Traceback" not in text.stderr
    assert f"writing the upload files into {str(output)!r} failed" in text.stderr
    assert "`hub catalog export DIR --connector removing --profile default`" in (
        text.stderr
    )
    summary = json.loads(as_json.stdout)
    assert as_json.returncode == 1
    assert summary["status"] == "succeeded"
    assert "writing the upload files" in summary["error"]
    assert [run["status"] for run in history] == ["succeeded", "succeeded"]


def test_stale_fail_safe_keeps_upload_files(tmp_path, monkeypatch):
    path = write_connector(tmp_path, "counting", COUNTING_CONNECTOR)
    output = tmp_path / "upload"
    variable = env_name("counting", "default", "count")
    monkeypatch.setenv(variable, "10")
    assert run_hub_process("run", str(path), "--output", str(output)).returncode == 0
    before = (output / "resources.jsonl").read_bytes()
    monkeypatch.setenv(variable, "2")

    text = run_hub_process("run", str(path), "--output", str(output))
    as_json = run_hub_process("run", str(path), "--output", str(output), "--json")

    assert text.returncode == 0, text.stderr
    assert "warning: the upload files were left as they were" in text.stderr
    assert "  output " not in text.stdout
    assert (output / "resources.jsonl").read_bytes() == before
    assert len(before.splitlines()) == 10
    summary = json.loads(as_json.stdout)
    assert summary["outputs"] == []
    assert summary["withheld_outputs"] == [
        str(output / "resources.jsonl"),
        str(output / "lineage.jsonl"),
    ]
    assert not list(output.glob(".*.partial"))


def test_mass_stale_override_writes_upload_files(tmp_path, monkeypatch):
    path = write_connector(tmp_path, "counting", COUNTING_CONNECTOR)
    output = tmp_path / "upload"
    variable = env_name("counting", "default", "count")
    monkeypatch.setenv(variable, "10")
    run_hub_process("run", str(path), "--output", str(output))
    monkeypatch.setenv(variable, "2")

    result = run_hub_process(
        "run", str(path), "--output", str(output), "--allow-mass-stale"
    )

    assert result.returncode == 0, result.stderr
    assert len((output / "resources.jsonl").read_text().splitlines()) == 2


def test_summary_counts_rows_fresh_again(tmp_path, monkeypatch):
    path = write_connector(tmp_path, "counting", COUNTING_CONNECTOR)
    variable = env_name("counting", "default", "count")
    for count, options in (("10", ()), ("2", ("--allow-mass-stale",))):
        monkeypatch.setenv(variable, count)
        assert run_hub_process("run", str(path), *options).returncode == 0
    monkeypatch.setenv(variable, "10")

    result = run_hub_process("run", str(path))

    assert result.returncode == 0, result.stderr
    assert "0 added, 0 changed, 10 unchanged, 0 stale (8 fresh again)" in (
        result.stdout
    )


def test_stale_fail_safe_logged_with_json(tmp_path, monkeypatch):
    # With --json no summary text follows, so the log line is the warning.
    path = write_connector(tmp_path, "counting", COUNTING_CONNECTOR)
    variable = env_name("counting", "default", "count")
    monkeypatch.setenv(variable, "10")
    run_hub_process("run", str(path))
    monkeypatch.setenv(variable, "2")

    result = run_hub_process("run", str(path), "--json")

    assert json.loads(result.stdout)["catalog"]["stale_guard"]["would_stale"] == 8
    assert result.stderr.count("the run would mark 8 of 10 resources stale") == 1


@pytest.mark.parametrize(
    "source,expected",
    [
        (
            "from hub.sdk import SecodaIntegration\n\n"
            "class NoExtract(SecodaIntegration):\n    pass\n",
            "class NoExtract in {path} is abstract because it does not "
            "implement extract()",
        ),
        (TWO_CLASSES, "choose one with `hub run ./{name}:ClassName`"),
    ],
    ids=["abstract", "two-classes"],
)
def test_file_class_messages(tmp_path, source, expected):
    path = write_connector(tmp_path, "conn", source)

    result = run_hub_process("run", "./conn.py", cwd=tmp_path)

    assert result.returncode == 1
    assert expected.format(path=path.name, name=path.name) in result.stderr


def test_show_suggests_show_command(tmp_path):
    write_connector(tmp_path, "two", TWO_CLASSES)

    result = run_hub_process("show", "./two.py", cwd=tmp_path)

    assert result.returncode == 1
    assert "choose one with `hub show ./two.py:ClassName`" in result.stderr


def test_run_directory_is_named(tmp_path):
    result = run_hub_process("run", str(tmp_path))

    assert result.returncode == 2
    assert f"'{tmp_path}' is a directory" in result.stderr
    assert "connector file" in result.stderr
    assert "does not exist" not in result.stderr


# Raises an exception that cannot be turned into a string, and whose repr()
# fails too when BROKEN_REPR is set.
UNPRINTABLE_CONNECTOR = textwrap.dedent(
    """
    import os

    from hub.sdk import SecodaIntegration


    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no message")

        def __repr__(self):
            if os.environ.get("BROKEN_REPR"):
                raise RuntimeError("no repr")
            return "Unprintable('x')"


    class Raising(SecodaIntegration):
        def extract(self):
            raise Unprintable("x")
    """
)

# Raises with the message in the MESSAGE file, which may be very long or
# contain control characters.
MESSAGE_CONNECTOR = textwrap.dedent(
    """
    import os
    import pathlib

    from hub.sdk import SecodaIntegration


    class Loud(SecodaIntegration):
        def extract(self):
            message = pathlib.Path(os.environ["MESSAGE"]).read_bytes().decode()
            raise RuntimeError(message)
    """
)


@pytest.mark.parametrize(
    ("environment", "described"),
    [
        ({}, "Unprintable: Unprintable('x') (str() of the exception failed)"),
        (
            {"BROKEN_REPR": "1"},
            "Unprintable: <repr() failed too> (str() of the exception failed)",
        ),
    ],
    ids=["repr", "broken-repr"],
)
def test_unprintable_exception_fails_run(tmp_path, hub_home, environment, described):
    path = write_connector(tmp_path, "unprintable", UNPRINTABLE_CONNECTOR)

    result = run_hub_process("run", str(path), env=environment)
    as_json = run_hub_process("run", str(path), "--json", env=environment)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: connector 'unprintable' failed: {described}"
    )
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"] == described
    assert catalog_runs(hub_home) == [("failed", described), ("failed", described)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def broken(:\n", "conn.py failed to import: SyntaxError: "),
        ("X = 1\n", "conn.py defines no subclass of hub.sdk.SecodaIntegration"),
        (
            "from hub.sdk import SecodaIntegration\n\n\n"
            "class NoExtract(SecodaIntegration):\n    pass\n",
            "is abstract because it does not implement extract()",
        ),
        (
            "class E(Exception):\n"
            "    def __str__(self):\n"
            "        raise ValueError\n\n\n"
            "raise E()\n",
            "conn.py failed to import: E: E() (str() of the exception failed)",
        ),
    ],
    ids=["syntax-error", "no-class", "abstract", "unprintable-import-error"],
)
def test_load_failure_prints_json(tmp_path, source, expected):
    write_connector(tmp_path, "conn", source)

    result = run_hub_process("run", "./conn.py", "--json", cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["connector"] == "conn"
    assert summary["status"] == "failed"
    assert summary["run_id"] is None
    assert expected in summary["error"]
    assert summary["error"] in result.stderr


def test_long_error_is_capped(tmp_path, hub_home):
    path = write_connector(tmp_path, "loud", MESSAGE_CONNECTOR)
    message = tmp_path / "message.txt"
    message.write_text("x" * 5_000_000)

    result = run_hub_process("run", str(path), "--json", env={"MESSAGE": str(message)})
    history = run_hub_process("runs", "--json")

    # 3,944 characters kept and 56 left for the marker, 4,000 at the most.
    expected = "RuntimeError: " + "x" * 3930 + "... [4,996,070 more characters cut]"
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == expected
    assert len(result.stderr) < 5000
    assert catalog_runs(hub_home) == [("failed", expected)]
    assert json.loads(history.stdout)[0]["error"] == expected


def test_long_stored_error_capped_on_read(tmp_path, hub_home):
    # A catalog that an older hub wrote can hold a message of any length.
    path = write_connector(tmp_path, "loud", MESSAGE_CONNECTOR)
    message = tmp_path / "message.txt"
    message.write_text("short")
    run_hub_process("run", str(path), env={"MESSAGE": str(message)})
    with sqlite3.connect(hub_home / "data" / "catalog.sqlite") as connection:
        connection.execute("UPDATE runs SET error = ?", ("y" * 10_000,))
    connection.close()

    history = run_hub_process("runs", "--json")

    assert json.loads(history.stdout)[0]["error"] == (
        "y" * 3944 + "... [6,056 more characters cut]"
    )


def test_control_characters_escaped(tmp_path, hub_home):
    path = write_connector(tmp_path, "loud", MESSAGE_CONNECTOR)
    message = tmp_path / "message.txt"
    message.write_bytes(b"real\rfake\x1b[2Jend")

    result = run_hub_process("run", str(path), env={"MESSAGE": str(message)})
    table = run_hub_process("runs")

    escaped = "RuntimeError: real\\rfake\\x1b[2Jend"
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: connector 'loud' failed: {escaped}"
    )
    assert catalog_runs(hub_home) == [("failed", escaped)]
    # The output is read with universal newlines, so a raw carriage return
    # would split these lines and fail the checks of whole lines.
    assert "\x1b" not in table.stdout
    assert escaped in table.stdout.splitlines()[1]
