"""``hub show NAME``: what a connector is and which credentials it reads."""

from __future__ import annotations

import inspect

import click

from hub.cli.errors import hub_errors
from hub.cli.output import echo_json, echo_table


@click.command("show")
@click.argument("connector")
@click.option("--json", "as_json", is_flag=True, help="Print the details as JSON.")
def show_command(connector: str, as_json: bool) -> None:
    """Show CONNECTOR's description, version, allowed hosts and fields.

    CONNECTOR is an installed connector's name or the path of a connector
    file. Its module is imported to read the class; no credentials are read.
    """
    from hub.connectors import entry_from_file, find, is_file_spec, load_class

    with hub_errors():
        entry = (
            entry_from_file(connector) if is_file_spec(connector) else find(connector)
        )
        connector_class = load_class(entry)
    details = describe_connector(entry, connector_class)

    if as_json:
        echo_json(details)
    else:
        _echo_details(details)


def describe_connector(entry, connector_class) -> dict:
    """Collect what ``hub show`` prints about one connector."""
    return {
        "name": entry.name,
        "description": _own_docstring(connector_class),
        "distribution": entry.distribution,
        "version": entry.version,
        "target": entry.target,
        "allowed_hosts": list(connector_class.allowed_hosts),
        "credential_fields": [
            {
                "name": field.name,
                "label": field.prompt,
                "help": field.help,
                "required": field.required,
                "secret": field.secret,
                "default": field.default,
            }
            for field in connector_class.credential_fields
        ],
    }


def _own_docstring(connector_class) -> str:
    # inspect.getdoc falls back to the base class, whose docstring describes
    # SecodaIntegration itself rather than this connector.
    doc = connector_class.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else ""


def _echo_details(details: dict) -> None:
    version = f" {details['version']}" if details["version"] else ""
    click.echo(f"{details['name']}{version}")
    if details["description"]:
        click.echo()
        click.echo(details["description"])
        click.echo()
    click.echo(f"distribution   {details['distribution'] or '-'}")
    click.echo(f"source         {details['target']}")
    hosts = ", ".join(details["allowed_hosts"]) or "none declared"
    click.echo(f"allowed hosts  {hosts}")

    fields = details["credential_fields"]
    if not fields:
        click.echo("credential fields: none declared; any FIELD=VALUE is accepted")
        return
    click.echo()
    rows = [
        [
            field["name"],
            field["label"],
            "yes" if field["required"] else "no",
            "yes" if field["secret"] else "no",
            "-" if field["default"] is None else field["default"],
            field["help"] or "-",
        ]
        for field in fields
    ]
    echo_table(("field", "label", "required", "secret", "default", "help"), rows)
