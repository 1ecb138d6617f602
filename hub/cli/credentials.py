"""``hub credentials``: store, list and remove connector credentials."""

from __future__ import annotations

import click

from hub.cli.errors import CommandError, hub_errors
from hub.cli.output import echo_json, echo_table


@click.group("credentials")
def credentials_group() -> None:
    """Manage the credentials store shared by all connectors.

    Values are kept in credentials.json (mode 0600) in the hub's
    configuration directory; SECODA_HUB_HOME moves it. An environment variable
    SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD> overrides a stored value.
    """


@credentials_group.command("set")
@click.argument("connector")
@click.argument("assignments", nargs=-1, metavar="[FIELD=VALUE]...")
@click.option(
    "--profile", default="default", show_default=True, help="Profile to store into."
)
def set_command(connector: str, assignments: tuple[str, ...], profile: str) -> None:
    """Store credentials for CONNECTOR.

    Fields not given as FIELD=VALUE are prompted for; secret fields are read
    without echo. Give a secret on the command line only where the shell
    history is safe.
    """
    given = _parse_assignments(assignments)
    with hub_errors():
        name, fields = _declared_fields(connector)
        _check_known(name, fields, given)
        store = _store()
        stored = store.get(name, profile)
        values = {**given, **_prompt_missing(fields, given, stored)}
        if not values:
            raise CommandError(
                f"connector {name!r} declares no credential fields; give them "
                f"as FIELD=VALUE, for example `hub credentials set {name} token=...`",
                2,
            )
        store.set(name, profile, values)

    fields_text = ", ".join(sorted(values))
    click.echo(f"Stored {fields_text} for {name} (profile {profile}) in {store.path}")


@credentials_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_command(as_json: bool) -> None:
    """List stored credentials with every secret value masked."""
    from hub.credentials import masked

    with hub_errors():
        stored = _store().all()
        rows = []
        for connector in sorted(stored):
            fields = _fields_or_none(connector)
            for profile in sorted(stored[connector]):
                shown = masked(fields, stored[connector][profile])
                rows.append(
                    {"connector": connector, "profile": profile, "fields": shown}
                )

    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No credentials stored. Store some with `hub credentials set NAME`.")
        return
    table = [
        [row["connector"], row["profile"], field, value]
        for row in rows
        for field, value in sorted(row["fields"].items())
    ]
    echo_table(("connector", "profile", "field", "value"), table)


@credentials_group.command("remove")
@click.argument("connector")
@click.option(
    "--profile", help="Remove only this profile. Default: every profile of CONNECTOR."
)
def remove_command(connector: str, profile: str | None) -> None:
    """Remove the stored credentials of CONNECTOR."""
    with hub_errors():
        removed = _store().remove(connector, profile)
    what = f"profile {profile!r} of {connector!r}" if profile else repr(connector)
    if not removed:
        raise CommandError(
            f"no credentials stored for {what}; see `hub credentials list`", 2
        )
    click.echo(f"Removed the credentials of {what}.")


def _store():
    from hub.runner import open_credential_store

    return open_credential_store()


def _parse_assignments(assignments: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for assignment in assignments:
        field, equals, value = assignment.partition("=")
        if not equals or not field:
            raise click.UsageError(
                f"{assignment!r} is not FIELD=VALUE; write it as, for example, "
                "email=me@example.com"
            )
        values[field] = value
    return values


def _declared_fields(connector: str):
    """Return the connector's name and declared fields, importing its module."""
    from hub.connectors import entry_from_file, find, is_file_spec, load_class
    from hub.errors import ConnectorLoadError

    entry = entry_from_file(connector) if is_file_spec(connector) else find(connector)
    try:
        return entry.name, load_class(entry).credential_fields
    except ConnectorLoadError as error:
        click.echo(f"warning: {error}; storing the fields as given", err=True)
        return entry.name, ()


def _fields_or_none(connector: str):
    """Return the declared fields of an installed connector, else none."""
    from hub.connectors import find, load_class
    from hub.errors import HubError

    try:
        return load_class(find(connector)).credential_fields
    except HubError:
        return ()


def _check_known(connector: str, fields, given: dict[str, str]) -> None:
    if not fields:
        return
    known = [field.name for field in fields]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise CommandError(
            f"{connector} has no credential field {', '.join(map(repr, unknown))}; "
            f"its fields are: {', '.join(known)}",
            2,
        )


def _prompt_missing(
    fields, given: dict[str, str], stored: dict[str, str]
) -> dict[str, str]:
    """Prompt for the declared fields the user did not give.

    With no FIELD=VALUE at all, every field is asked for, the stored or default
    value offered for non-secret ones. Otherwise only required fields that
    are neither given nor stored are asked for.
    """
    values = {}
    for field in fields:
        if field.name in given:
            continue
        if given and (not field.required or stored.get(field.name)):
            continue
        value = _prompt(field, stored.get(field.name))
        if value is not None:
            values[field.name] = value
    return values


def _prompt(field, current: str | None) -> str | None:
    label = field.prompt + (f" ({field.help})" if field.help else "")
    if field.secret:
        keep = current is not None
        suffix = " [leave empty to keep the stored value]" if keep else ""
        value = click.prompt(
            label + suffix,
            hide_input=True,
            default="" if keep or not field.required else None,
            show_default=False,
        )
        return None if keep and value == "" else value
    default = current if current is not None else field.default
    if default is None and not field.required:
        default = ""
    value = click.prompt(label, default=default, show_default=default not in (None, ""))
    return None if value == "" and not field.required and current is None else value
