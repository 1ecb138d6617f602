"""The ``hub`` command line.

Each command group lives in its own module, imported only when that command
runs, so that ``hub --help`` and ``hub list`` start quickly.
"""

import importlib

import click

from hub import __version__
from hub.cli.errors import INTERRUPTED, interrupt_exits_130

# Command name -> "module:attribute" of its click command.
COMMANDS = {
    "list": "hub.cli.connectors:list_command",
    "run": "hub.cli.connectors:run_command",
    "credentials": "hub.cli.credentials:credentials_group",
    "show": "hub.cli.show:show_command",
    "runs": "hub.cli.catalog:runs_command",
    "catalog": "hub.cli.catalog:catalog_group",
    "registry": "hub.cli.registry:registry_group",
    "install": "hub.cli.registry:install_command",
    "uninstall": "hub.cli.registry:uninstall_command",
    "publish": "hub.cli.registry:publish_command",
    "new": "hub.cli.registry:new_command",
}

# One-line summaries for `hub --help`, which would otherwise import every
# command module to read its docstring.
SUMMARIES = {
    "list": "List the installed connectors.",
    "run": "Run a connector into the catalog and print a summary.",
    "credentials": "Manage the credentials store shared by all connectors.",
    "show": "Show CONNECTOR's description, version, allowed hosts and fields.",
    "runs": "Show the run history, oldest first, optionally of one connector.",
    "catalog": "Query the catalog: resources, one resource, lineage, and export.",
    "registry": "Browse, review and validate connector registries.",
    "install": "Install connector NAME from a registry, after checking its sha256.",
    "uninstall": "Uninstall the installed connector NAME with pip.",
    "publish": "Build the connector in PATH, check it and add it to a registry.",
    "new": "Create a connector distribution from the hub's template.",
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

    def invoke(self, ctx: click.Context):
        # Every subcommand, its lazy import and its prompts run inside this
        # call. Commands with a more specific message convert the interrupt
        # themselves, with exits_130_on_interrupt.
        with interrupt_exits_130(INTERRUPTED):
            return super().invoke(ctx)

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
