"""Ctrl-C (SIGINT) ends every `hub` command with exit status 130 and one line."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub import cli as cli_module
from hub.cli import cli
from hub.cli.errors import INTERRUPTED

# A connector whose connection check blocks until the test interrupts it.
BLOCKING_CHECK = textwrap.dedent(
    """
    import os
    import pathlib
    import time

    from hub.sdk import SecodaIntegration


    class Blocking(SecodaIntegration):
        def check_connection(self):
            pathlib.Path(os.environ["READY_FILE"]).write_text("ready")
            time.sleep(60)

        def extract(self):
            pass
    """
)


def start_hub(tmp_path: Path, *args: str, env: dict | None = None):
    """Start `hub` with SIGINT at its default disposition and stdin on a pipe.

    A background job of a non-interactive shell starts with SIGINT ignored,
    and a child inherits that, so the child resets it before exec.
    """
    hub = Path(sys.executable).with_name("hub")
    # Files, not pipes, take the output, so the test can read a prompt that
    # ends without a newline while the process still runs.
    with (
        (tmp_path / "stdout").open("w") as stdout,
        (tmp_path / "stderr").open("w") as stderr,
    ):
        return subprocess.Popen(
            [str(hub), *args],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            text=True,
            env={**os.environ, **(env or {})},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def wait_for(condition, description: str) -> None:
    deadline = time.monotonic() + 60
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition(), f"{description} never happened"


def interrupt(process: subprocess.Popen) -> int:
    """Send SIGINT to ``process`` and return its exit status."""
    try:
        process.send_signal(signal.SIGINT)
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdin.close()


def test_credentials_prompt_sigint_exits_130(tmp_path, hub_home):
    process = start_hub(tmp_path, "credentials", "set", "cluvio")
    stdout = tmp_path / "stdout"
    wait_for(lambda: "email" in stdout.read_text(), "the email prompt")

    returncode = interrupt(process)
    stderr = (tmp_path / "stderr").read_text()

    assert returncode == 130, stderr
    assert stderr == f"Error: {INTERRUPTED}\n"
    assert "Aborted" not in stderr
    assert list(hub_home.rglob("credentials.json")) == []


def test_credentials_test_sigint_exits_130(tmp_path, hub_home):
    path = tmp_path / "blocking.py"
    path.write_text(BLOCKING_CHECK)
    ready = tmp_path / "ready"
    process = start_hub(
        tmp_path, "credentials", "test", str(path), env={"READY_FILE": str(ready)}
    )
    wait_for(ready.exists, "the connection check")

    returncode = interrupt(process)
    stderr = (tmp_path / "stderr").read_text()

    assert returncode == 130, stderr
    assert stderr.endswith(f"Error: {INTERRUPTED}\n")
    assert "Aborted" not in stderr
    assert "Traceback" not in stderr


def raise_interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "args",
    [["catalog", "resources"], ["catalog", "lineage", "chart-1", "--upstream"]],
    ids=["resources", "lineage"],
)
def test_catalog_interrupt_exits_130(args, monkeypatch, hub_home):
    monkeypatch.setattr("hub.cli.catalog.opened_catalog", raise_interrupt)
    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 130, result.output
    assert result.stderr == f"Error: {INTERRUPTED}\n"


def test_interrupt_during_import_exits_130(tmp_path, monkeypatch):
    # Subcommand modules are imported when the command is looked up, so an
    # early Ctrl-C, as in the first few tenths of a second of `hub run`,
    # often lands in an import.
    (tmp_path / "interrupted_import.py").write_text("raise KeyboardInterrupt\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    commands = {
        **cli_module.COMMANDS,
        "interrupted-import": "interrupted_import:command",
    }
    monkeypatch.setattr(cli_module, "COMMANDS", commands)

    result = CliRunner().invoke(cli, ["interrupted-import"])

    assert result.exit_code == 130, result.output
    assert result.stderr == f"Error: {INTERRUPTED}\n"


def test_prompt_end_of_input_names_the_way_out(hub_home):
    # End of input at a prompt is no interrupt, so it does not exit 130.
    result = CliRunner().invoke(cli, ["credentials", "set", "cluvio"], input="")

    assert result.exit_code == 2
    assert "Aborted" not in result.stderr
    assert result.stderr.endswith(
        "Error: standard input ended before a value for email was given; set "
        "credentials without prompts with FIELD=VALUE arguments, --stdin or "
        "--from-env\n"
    )


def test_specific_message_kept(monkeypatch, hub_home):
    from hub.registry import install

    monkeypatch.setattr(install, "uninstall", raise_interrupt)
    result = CliRunner().invoke(cli, ["uninstall", "cluvio"])

    assert result.exit_code == 130, result.output
    assert result.stderr == (
        "Error: interrupted; run `hub list` to see which connectors are installed\n"
    )
