"""``hub credentials``: store, show, test and remove connector credentials."""

from __future__ import annotations

import functools
import shlex
import sys

import click

from hub.cli.errors import (
    CommandError,
    check_profile_option,
    hub_errors,
    is_interrupt,
)
from hub.cli.output import echo_json, echo_table
from hub.errors import IntegrationError
from hub.sdk.strategies import IngestResourcesStrategy

PROFILE_HELP = "Credential profile, such as eu or staging."

profile_option = click.option(
    "--profile",
    default="default",
    show_default=True,
    help=PROFILE_HELP,
    callback=check_profile_option,
)


def backend_option(command):
    """Add ``--backend`` to a command, passed on as ``backend_name``."""
    return click.option(
        "--backend",
        "backend_name",
        metavar="NAME",
        help="Credential backend: file (the default), keyring, env, or one a "
        "plugin adds. Default: SECODA_HUB_CREDENTIAL_BACKEND, else file.",
    )(command)


def redacted(command):
    """Run a command with log records, warnings and errors redacted.

    The command receives the :class:`Redactor` as ``redactor`` and adds each
    secret it reads or is given.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from hub.redaction import Redactor, redacting_logs

        redactor = Redactor()
        with redacting_logs(redactor), hub_errors(redactor):
            return command(*args, redactor=redactor, **kwargs)

    return wrapper


@click.group("credentials")
def credentials_group() -> None:
    """Manage the credentials store shared by all connectors.

    The file backend (the default) keeps values in credentials.json (mode
    0600) in the hub's configuration directory; SECODA_HUB_HOME moves it and
    SECODA_HUB_CREDENTIALS_KEY encrypts it. --backend keyring keeps them in
    the system keyring. An environment variable
    SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD> overrides a stored value.
    """


@credentials_group.command("set")
@click.argument("connector")
@click.argument("assignments", nargs=-1, metavar="[FIELD=VALUE]...")
@profile_option
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read the values from standard input: a JSON object, or one "
    "FIELD=VALUE per line. Use JSON for values that contain a newline.",
)
@click.option(
    "--from-env",
    is_flag=True,
    help="Read the values from SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD> "
    "variables.",
)
@click.option(
    "--env-var",
    "env_vars",
    multiple=True,
    metavar="FIELD=VARIABLE",
    help="Read FIELD from the environment variable VARIABLE. Repeatable.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Allow the connector to call HOST with this profile. Repeatable.",
)
@click.option(
    "--allow-base-url-host",
    is_flag=True,
    help="Allow the host (and port) of the profile's base_url value.",
)
@backend_option
@redacted
def set_command(
    connector, assignments, profile, from_stdin, from_env, env_vars, **options
):
    """Store credentials for CONNECTOR.

    Fields not given as FIELD=VALUE are prompted for, and secret fields are
    read without echo. Nothing is prompted for with --stdin, --from-env or
    --env-var, nor when only --allow-host or --allow-base-url-host is given.
    Give a secret on the command line only where the shell history is safe.
    """
    from hub.credentials import inputs

    redactor = options["redactor"]
    # Until the connector's fields are known, every given value may be
    # secret. Standard input is read once they are known, which the
    # connector's import cannot see either.
    for assignment in assignments:
        redactor.add(assignment.partition("=")[2])

    name, fields = _declared_fields(connector)
    field_names = [f.name for f in fields]
    given = inputs.parse_stdin(sys.stdin.read(), field_names) if from_stdin else {}
    given.update(inputs.parse_assignments(assignments, field_names))
    given.update(inputs.values_from_named_variables(env_vars, field_names))
    if from_env:
        given = {**inputs.values_from_environment(name, profile, fields), **given}
        _require_some(given, name, profile)
    for value in given.values():
        redactor.add(value)
    _check_known(name, fields, given)

    backend = _open_writable(options["backend_name"])
    stored = backend.get(name, profile)
    scripted = from_stdin or from_env or bool(env_vars)
    # `set NAME --allow-host HOST` alone, as the egress error suggests, only
    # adds the host.
    hosts_only = not given and (
        options["allow_hosts"] or options["allow_base_url_host"]
    )
    prompted = {} if scripted or hosts_only else _prompt_missing(fields, given, stored)
    values = {**given, **prompted}
    for value in prompted.values():
        redactor.add(value)

    defaults = {f.name: f.default for f in fields if f.default is not None}
    hosts = _hosts_to_allow(options, {**defaults, **stored, **values})
    if not values and not hosts:
        raise CommandError(
            f"connector {name!r} declares no credential fields; give them as "
            f"FIELD=VALUE, for example `{_set_command(connector, profile)} "
            "token=...`",
            2,
        )
    backend.set(name, profile, values, hosts)
    _echo_stored(name, profile, backend, values, hosts)
    _warn_missing_required(name, profile, fields, {**stored, **values})


@credentials_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@backend_option
@redacted
def list_command(as_json: bool, backend_name: str | None, redactor) -> None:
    """List stored credentials with every secret value masked.

    With --json, each profile's "fields" is a list of {"field", "value",
    "source"} objects, as in `hub credentials show --json`.
    """
    from hub.credentials import open_backend

    backend = open_backend(backend_name)
    stored = backend.all()
    rows = []
    for connector in sorted(stored):
        fields = _fields_or_none(connector)
        for profile in sorted(stored[connector]):
            values = dict(sorted(stored[connector][profile].items()))
            rows.append(
                {
                    "connector": connector,
                    "profile": profile,
                    "fields": _field_rows(
                        fields, values, dict.fromkeys(values, "stored")
                    ),
                    "allowed_hosts": backend.allowed_hosts(connector, profile),
                }
            )

    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No credentials stored. Store some with `hub credentials set NAME`.")
        return
    table = [
        [row["connector"], row["profile"], field["field"], field["value"]]
        for row in rows
        for field in row["fields"]
    ]
    echo_table(("connector", "profile", "field", "value"), table)


@credentials_group.command("show")
@click.argument("connector")
@click.option(
    "--profile",
    help="Show only this profile. Default: every profile.",
    callback=check_profile_option,
)
@click.option("--json", "as_json", is_flag=True, help="Print the values as JSON.")
@backend_option
@redacted
def show_command(connector, profile, as_json, backend_name, redactor) -> None:
    """Show CONNECTOR's stored values, secrets masked, and its allowed hosts.

    Each value is listed with its source: stored, env (a
    SECODA_HUB_CRED__ variable, which overrides the stored value) or default.
    Declared fields with no value are listed as unset.
    """
    from hub.credentials import open_backend

    name = _connector_name(connector)
    fields = _fields_or_none(connector)
    backend = open_backend(backend_name)
    profiles = [profile] if profile else sorted(backend.all().get(name, {}))
    if not profiles:
        raise CommandError(
            f"no credentials stored for {name!r} in {backend.location}; store "
            f"them with `{_set_command(connector, profile)}`",
            2,
        )
    shown = [_describe_profile(backend, name, each, fields) for each in profiles]

    if as_json:
        echo_json(shown)
        return
    for index, description in enumerate(shown):
        if index:
            click.echo()
        _echo_profile(description)


@credentials_group.command("remove")
@click.argument("connector")
@click.option(
    "--profile",
    help="Remove only this profile. Default: every profile of CONNECTOR.",
    callback=check_profile_option,
)
@backend_option
@redacted
def remove_command(connector, profile, backend_name, redactor) -> None:
    """Remove the stored credentials of CONNECTOR."""
    backend = _open_writable(backend_name)
    name = _connector_name(connector)
    removed = backend.remove(name, profile)
    what = f"profile {profile!r} of {name!r}" if profile else repr(name)
    if not removed:
        raise CommandError(
            f"no credentials stored for {what}; see `hub credentials list`", 2
        )
    click.echo(f"Removed the credentials of {what}.")


@credentials_group.command("test")
@click.argument("connector")
@profile_option
@backend_option
@redacted
def test_command(connector, profile, backend_name, redactor) -> None:
    """Check that CONNECTOR's credentials work, without extracting anything.

    Calls the connector's check_connection() with the resolved credentials
    and prints one line. What Python code prints meanwhile, and until the
    process exits, goes to stderr with secret values redacted. Exit status:
    0 when the check passed, 1 when it failed, 2 when the connector defines
    no check or a setting is missing.
    """
    from hub.connector_streams import redirect_output_until_exit
    from hub.connectors import load_class
    from hub.credentials import load_run_credentials, network_allowlist, open_backend
    from hub.runner import allow_hint, point_hints_at_profile
    from hub.sdk.http import PooledNetworkStrategy

    # As in `hub run`: from before the connector is imported until the
    # process exits, Python-level output goes to stderr, redacted.
    stdout = redirect_output_until_exit(redactor)
    entry = _find_entry(connector)
    connector_class = load_class(entry)
    backend = open_backend(backend_name)
    values = load_run_credentials(
        entry.name, profile, connector_class.credential_fields, redactor, backend
    )
    # The same allowlist and hint as `hub run`, so a check that passes here
    # reaches the same hosts in a run.
    network = PooledNetworkStrategy(
        allowed_hosts=network_allowlist(
            connector_class.allowed_hosts, entry.name, profile, backend
        ),
        secrets=[values[field] for field in values.secret_names],
        allow_hint=allow_hint(entry, profile),
    )

    verdict, exit_code = _check_connection(
        entry.name, connector_class, values, network, redactor
    )
    click.echo(point_hints_at_profile(verdict, entry, profile), file=stdout)
    sys.exit(exit_code)


@credentials_group.command("generate-key")
def generate_key_command() -> None:
    """Print a new key for encrypting the credential file.

    Set SECODA_HUB_CREDENTIALS_KEY to the printed key; the next write of the
    file encrypts it. Keep the key outside the hub's directory, because a
    lost key makes the file unreadable.
    """
    from hub.credentials.encryption import KEY_ENV, generate_key

    with hub_errors():
        key = generate_key()
    click.echo(key)
    click.echo(
        f"Set {KEY_ENV} to this key; the next `hub credentials set` encrypts the file.",
        err=True,
    )


def _set_command(connector: str, profile: str | None = None) -> str:
    """Return a ``hub credentials set`` command, each argument shell-quoted."""
    from hub.credentials import DEFAULT_PROFILE

    words = ["hub", "credentials", "set", connector]
    if profile and profile != DEFAULT_PROFILE:
        words += ["--profile", profile]
    return shlex.join(words)


def _require_some(given: dict, name: str, profile: str) -> None:
    from hub.credentials import env_name

    if not given:
        raise CommandError(
            f"--from-env found no variables {env_name(name, profile, '')}*; "
            f"export, for example, {env_name(name, profile, 'password')}",
            2,
        )


def _open_writable(backend_name: str | None):
    from hub.credentials import open_backend

    backend = open_backend(backend_name)
    if backend.read_only:
        raise CommandError(
            f"the {backend.name} credential backend is read-only; choose "
            "--backend file or --backend keyring to store values",
            2,
        )
    return backend


def _hosts_to_allow(options: dict, values: dict[str, str]) -> list[str]:
    from hub.credentials.hosts import host_of_url, normalize_host

    hosts = [normalize_host(host) for host in options["allow_hosts"]]
    if options["allow_base_url_host"]:
        if not values.get("base_url"):
            raise CommandError(
                "--allow-base-url-host needs a base_url value; give it as "
                "base_url=https://... or store it first",
                2,
            )
        hosts.append(host_of_url(values["base_url"]))
    return hosts


def _echo_stored(name, profile, backend, values, hosts) -> None:
    where = f"{name} (profile {profile}) in {backend.location}"
    if values:
        click.echo(f"Stored {', '.join(sorted(values))} for {where}")
    else:
        click.echo(f"Stored allowed hosts for {where}")
    if hosts:
        click.echo(f"Allowed hosts: {', '.join(backend.allowed_hosts(name, profile))}")


def _warn_missing_required(name, profile, fields, values) -> None:
    missing = [f.name for f in fields if f.required and not values.get(f.name)]
    if missing:
        click.echo(
            f"warning: {name} (profile {profile}) still needs "
            f"{', '.join(missing)}; a run will stop until they are set",
            err=True,
        )


def _find_entry(connector: str):
    from hub.connectors import entry_from_file, find, is_file_spec

    return entry_from_file(connector) if is_file_spec(connector) else find(connector)


def _connector_name(connector: str) -> str:
    """Return the store key of a connector name or connector file path."""
    from hub.connectors import entry_from_file, is_file_spec

    return entry_from_file(connector).name if is_file_spec(connector) else connector


def _declared_fields(connector: str):
    """Return the connector's name and declared fields, importing its module."""
    from hub.connectors import load_class
    from hub.errors import ConnectorLoadError

    entry = _find_entry(connector)
    try:
        return entry.name, load_class(entry).credential_fields
    except ConnectorLoadError as error:
        click.echo(f"warning: {error}; storing the fields as given", err=True)
        return entry.name, ()


def _fields_or_none(connector: str):
    """Return the declared fields of a connector or file, else none.

    Stored values outlive an uninstalled connector, and with no declared
    fields every value counts as secret, so nothing is shown unmasked.
    """
    from hub.connectors import load_class
    from hub.errors import HubError

    try:
        return load_class(_find_entry(connector)).credential_fields
    except HubError:
        return ()


def _check_known(connector: str, fields, given: dict[str, str]) -> None:
    """Reject fields the connector does not declare, quoting only plain names.

    A connector that declares no fields accepts any plain name. A name that
    is not plain may be part of a secret, so it is counted but not shown.
    """
    from hub.credentials.values import PLAIN_NAME_RULE, is_plain_name

    known = [field.name for field in fields]
    unknown = sorted(name for name in given if name not in known)
    shown = [repr(name) for name in unknown if fields and is_plain_name(name)]
    hidden = sum(not is_plain_name(name) for name in unknown)
    problems = []
    if shown:
        problems.append(f"{connector} has no credential field {', '.join(shown)}")
    if hidden:
        problems.append(
            f"{hidden} given field name(s) are not plain names and are not "
            "shown, in case they are part of a secret"
        )
    if not problems:
        return
    if fields:
        problems.append(f"its fields are: {', '.join(known)}")
    else:
        problems.append(f"a field name is {PLAIN_NAME_RULE}")
    raise CommandError("; ".join(problems), 2)


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
    try:
        return _ask(field, current)
    except click.Abort as error:
        if is_interrupt(error):
            raise
        # click aborts when standard input ends, as with < /dev/null.
        raise CommandError(
            f"standard input ended before a value for {field.name} was given; "
            "set credentials without prompts with FIELD=VALUE arguments, "
            "--stdin or --from-env",
            2,
        ) from None


def _ask(field, current: str | None) -> str | None:
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


def _describe_profile(backend, name: str, profile: str, fields) -> dict:
    from hub.credentials import env_values

    stored = backend.get(name, profile)
    from_env = env_values(name, profile) if backend.name != "env" else {}
    values = {**stored, **from_env}
    sources = {field: "stored" for field in stored}
    sources.update({field: "env" for field in from_env})
    for field in fields:
        if field.name not in values and field.default is not None:
            values[field.name] = field.default
            sources[field.name] = "default"

    rows = _field_rows(fields, values, sources)
    rows += [
        {"field": f.name, "value": None, "source": "unset"}
        for f in fields
        if f.name not in values
    ]
    return {
        "connector": name,
        "profile": profile,
        "backend": backend.name,
        "fields": rows,
        "allowed_hosts": backend.allowed_hosts(name, profile),
    }


def _field_rows(fields, values: dict, sources: dict) -> list[dict]:
    """Return one {"field", "value", "source"} row per value, secrets masked."""
    from hub.credentials import masked

    shown = masked(fields, values)
    return [
        {"field": field, "value": shown[field], "source": sources[field]}
        for field in values
    ]


def _echo_profile(description: dict) -> None:
    click.echo(
        f"{description['connector']} (profile {description['profile']}, "
        f"{description['backend']} backend)"
    )
    table = [
        [row["field"], "-" if row["value"] is None else row["value"], row["source"]]
        for row in description["fields"]
    ]
    echo_table(("field", "value", "source"), table)
    hosts = ", ".join(description["allowed_hosts"]) or "none"
    click.echo(f"Allowed hosts: {hosts}")


def _check_connection(name, connector_class, values, network, redactor):
    """Build the connector, call check_connection() and return (verdict, exit)."""
    from hub.runner import describe_failure

    try:
        connector = connector_class(
            credentials=values,
            ingest_resources_strategy=RejectingIngest(),
            network_call_strategy=network,
        )
        connector.check_connection()
    except NotImplementedError:
        return f"{name} defines no connection check", 2
    except Exception as error:
        return f"failed: {redactor(describe_failure(error))}", 1
    finally:
        network.finalize()
    return f"ok: {name} accepted the credentials", 0


class RejectingIngest(IngestResourcesStrategy):
    """Rejects every model, because a connection check must not extract."""

    def declare_resource(self, resource):
        raise IntegrationError(
            "check_connection() declared a model; a connection check must "
            "only authenticate"
        )

    def declare_lineage(self, lineage):
        self.declare_resource(lineage)

    def finalize(self):
        pass
