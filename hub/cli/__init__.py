"""The ``hub`` command line.

Each command group lives in its own module, imported only when that command
runs, so that ``hub --help`` and ``hub list`` start quickly.
"""

import importlib

import click

from hub import __version__

# Command name -> "module:attribute" of its click command.
COMMANDS = {
    "list": "hub.cli.connectors:list_command",
    "run": "hub.cli.connectors:run_command",
    "credentials": "hub.cli.credentials:credentials_group",
}

# One-line summaries for `hub --help`, which would otherwise import every
# command module to read its docstring.
SUMMARIES = {
    "list": "List the installed connectors.",
    "run": "Run a connector into the catalog and print a summary.",
    "credentials": "Manage the credentials store shared by all connectors.",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter) -> None:
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    epilog="""\b
Example:
  hub list
  hub credentials set cluvio email=me@example.com
  hub run cluvio --output ./upload
""",
)
@click.version_option(__version__, prog_name="hub")
def cli() -> None:
    """Install, discover and run Secoda metadata connectors.

    Connectors are pip distributions that register under the
    secoda.connectors entry-point group. Runs write into a local catalog
    and, on request, into Secoda's upload format.
    """


def main() -> None:
    cli(prog_name="hub")
