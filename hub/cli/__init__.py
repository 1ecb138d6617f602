"""The ``hub`` command line.

Each command group lives in its own module; heavy imports (pydantic, httpx,
the catalog) happen inside commands so that ``hub --help`` and ``hub list``
start quickly.
"""

import click

from hub import __version__
from hub.cli.connectors import list_command, run_command
from hub.cli.credentials import credentials_group


@click.group(
    epilog="""\b
Example:
  hub list
  hub credentials set cluvio email=me@example.com
  hub run cluvio --output ./upload
"""
)
@click.version_option(__version__, prog_name="hub")
def cli() -> None:
    """Install, discover and run Secoda metadata connectors.

    Connectors are pip distributions that register under the
    secoda.connectors entry-point group. Runs write into a local catalog
    and, on request, into Secoda's upload format.
    """


cli.add_command(list_command)
cli.add_command(run_command)
cli.add_command(credentials_group)


def main() -> None:
    cli(prog_name="hub")
