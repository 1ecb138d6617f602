"""Every command has help text, and ``hub --help`` stays light."""

import subprocess
import sys

import click
import pytest

from hub.cli import COMMANDS, SUMMARIES, cli


def walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            yield from walk(command.get_command(context, name), (*path, name))


ALL_COMMANDS = list(walk(cli))


@pytest.mark.parametrize(
    "path,command", ALL_COMMANDS, ids=[" ".join(p) or "hub" for p, _ in ALL_COMMANDS]
)
def test_command_has_help(path, command, hub):
    result = hub(*path, "--help")

    assert result.exit_code == 0
    assert command.help, path
    for parameter in command.params:
        if isinstance(parameter, click.Option) and parameter.name != "help":
            assert parameter.help, (path, parameter.name)


def test_summaries_match_docstrings():
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        first_line = command.help.strip().splitlines()[0]
        assert SUMMARIES[name] == first_line, name


def test_help_imports_no_heavy_module():
    code = (
        "import sys; from hub.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'pydantic', 'httpx', 'sqlalchemy', 'keyring', 'sqlglot'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )

    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("path", "phrase"),
    [
        (
            ["publish"],
            "--registry FILE Registry file to add the version to, created when "
            "missing; the wheel is copied into the wheels/ folder beside it.",
        ),
        (["publish"], "the registry shipped inside the hub and registries at a URL"),
        (["registry", "review"], "Registry file whose entry for VERSION this"),
        (["registry", "yank"], "Required unless SECODA_HUB_REGISTRY names exactly"),
        (["uninstall"], "not its distribution name (secoda-connector-cluvio)"),
        (["new"], "Prompts for each answer that no option gives, unless --no-input"),
        (["install"], "--version VERSION PEP 440 version to install."),
    ],
    ids=[
        "publish-writes",
        "publish-shipped",
        "review",
        "yank",
        "uninstall",
        "new",
        "install",
    ],  # fmt: skip
)
def test_help_states_contract(path, phrase, hub):
    result = hub(*path, "--help")

    assert result.exit_code == 0
    assert phrase in " ".join(result.output.split())
