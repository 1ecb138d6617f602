"""The marketplace commands: `registry`, `install`, `uninstall`, `publish`, `new`."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.errors import exits_130_on_interrupt, hub_errors
from hub.cli.output import echo_json, echo_table

# Registry files are replaced in one rename, so there is no state in between.
INTERRUPTED_CHANGE = (
    "interrupted; the registry file is either unchanged or fully updated"
)
INTERRUPTED_PIP = "interrupted; run `hub list` to see which connectors are installed"

REGISTRY_HELP = (
    "Registry file path or http(s) URL; repeat for several, the first that "
    "lists a name wins. Default: SECODA_HUB_REGISTRY (comma- or space-separated), "
    "else the registry shipped with the hub."
)


def registry_option(function):
    return click.option(
        "--registry",
        "registries",
        multiple=True,
        metavar="PATH_OR_URL",
        help=REGISTRY_HELP,
    )(function)


def registry_file_option(help_text: str):
    """Add the --registry option of a command that changes a registry file."""
    return click.option(
        "--registry",
        "registry_file",
        metavar="FILE",
        help=help_text
        + " Required unless SECODA_HUB_REGISTRY names exactly one file; the "
        "registry shipped inside the hub and registries at a URL are never "
        "written.",
    )


class VersionType(click.ParamType):
    """A PEP 440 version, rejected with exit status 2 when invalid."""

    name = "version"

    def convert(self, value, param, ctx):
        from hub.registry.models import version_problem

        problem = version_problem(value)
        if problem is not None:
            self.fail(problem, param, ctx)
        return value


VERSION = VersionType()


def pip_options(function):
    function = click.option(
        "--no-index",
        is_flag=True,
        help="Pass --no-index to pip, so nothing is downloaded from an index.",
    )(function)
    return click.option(
        "--find-links",
        multiple=True,
        metavar="DIR_OR_URL",
        help="Pass --find-links to pip (repeatable), e.g. a local wheelhouse.",
    )(function)


def pip_arguments(find_links: tuple[str, ...], no_index: bool) -> tuple[str, ...]:
    arguments = ["--no-index"] if no_index else []
    for link in find_links:
        arguments += ["--find-links", link]
    return tuple(arguments)


@click.group("registry")
def registry_group() -> None:
    """Browse, review and validate connector registries."""


@registry_group.command("list")
@registry_option
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def list_command(registries, as_json) -> None:
    """List every connector in the registries."""
    rows = _rows(registries, lambda resolved: True)
    _echo_rows(rows, as_json)


@registry_group.command("search")
@click.argument("text")
@registry_option
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def search_command(text, registries, as_json) -> None:
    """List connectors whose name, title, description, category or tags hold TEXT."""
    needle = text.lower()
    rows = _rows(registries, lambda resolved: needle in _haystack(resolved.connector))
    _echo_rows(rows, as_json)


@registry_group.command("show")
@click.argument("name")
@registry_option
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON.")
def show_command(name, registries, as_json) -> None:
    """Show one connector: its listing, credential fields, hosts and versions."""
    from hub.errors import ConnectorNotFoundError
    from hub.registry.sources import resolve

    with hub_errors():
        loaded = _load(registries)
        resolved = resolve(loaded, name)
        if resolved is None:
            raise ConnectorNotFoundError(
                f"no registry lists a connector named {name!r}; see `hub registry list`"
            )
    installed = _installed_versions()
    data = _describe_entry(resolved, installed.get(name))
    if as_json:
        echo_json(data)
        return
    _echo_entry(data)


@registry_group.command("review")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("--approve/--reject", required=True, help="Publish or reject it.")
@click.option("--reason", required=True, help="Why, as shown to the author.")
@registry_file_option("Registry file whose entry for VERSION this changes.")
@exits_130_on_interrupt(INTERRUPTED_CHANGE)
def review_command(name, version, approve, reason, registry_file) -> None:
    """Publish or reject VERSION of connector NAME."""
    from hub.registry.publish import review

    with hub_errors():
        path = _registry_to_change(registry_file)
        entry = review(path, name, version, approve=approve, reason=reason)
    click.echo(f"{name} {version} is now {entry.status.value} in {path}")


@registry_group.command("yank")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("--reason", required=True, help="Why the version is withdrawn.")
@registry_file_option("Registry file whose entry for VERSION this changes.")
@exits_130_on_interrupt(INTERRUPTED_CHANGE)
def yank_command(name, version, reason, registry_file) -> None:
    """Withdraw VERSION of NAME, so installs skip it."""
    from hub.registry.publish import yank

    with hub_errors():
        path = _registry_to_change(registry_file)
        yank(path, name, version, reason=reason)
    click.echo(f"{name} {version} is now yanked in {path}")


@registry_group.command("validate")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--no-rebuild",
    is_flag=True,
    help="Skip rebuilding first-party connectors to compare their sha256.",
)
@pip_options
def validate_command(file, no_rebuild, find_links, no_index) -> None:
    """Check a registry file against the schema and the registry rules.

    FILE defaults to the registry shipped with the hub. Exit status 1 when a
    rule is broken.
    """
    from hub.registry.rules import validate_file

    path = _registry_to_read(file)
    with hub_errors():
        problems = validate_file(
            path,
            rebuild=not no_rebuild,
            pip_options=pip_arguments(find_links, no_index),
        )
    for problem in problems:
        click.echo(f"invalid: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{path} is valid")


@registry_group.command("schema")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of standard output.",
)
def schema_command(output) -> None:
    """Print the JSON Schema of registry files (docs/registry.schema.json)."""
    import json

    from hub.registry import schema_document

    text = json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@click.command("install")
@click.argument("name")
@click.option(
    "--version",
    "version",
    type=VERSION,
    help="PEP 440 version to install. Default: the newest published one.",
)
@click.option(
    "--allow-unreviewed",
    is_flag=True,
    help="Also install a version that is in review, draft or rejected. A "
    "yanked version is never chosen this way; name it with --version.",
)
@registry_option
@pip_options
@exits_130_on_interrupt(INTERRUPTED_PIP)
def install_command(
    name, version, allow_unreviewed, registries, find_links, no_index
) -> None:
    """Install connector NAME from a registry, after checking its sha256.

    A yanked version is installed only when --version names it.
    """
    from hub.registry.install import install
    from hub.registry.models import Status

    with hub_errors():
        result = install(
            _load(registries),
            name,
            version=version,
            allow_unreviewed=allow_unreviewed,
            pip_options=pip_arguments(find_links, no_index),
        )
    click.echo(
        f"installed {result.name} {result.version} ({result.distribution}, "
        f"sha256 {result.sha256[:12]}...) from {result.registry}"
    )
    if result.status is Status.YANKED:
        reason = f" ({result.review_reason})" if result.review_reason else ""
        click.echo(
            f"warning: {result.name} {result.version} is yanked{reason}; it was "
            "installed because --version names it",
            err=True,
        )


@click.command("uninstall")
@click.argument("name")
@exits_130_on_interrupt(INTERRUPTED_PIP)
def uninstall_command(name) -> None:
    """Uninstall the installed connector NAME with pip.

    NAME is the connector's name as `hub list` shows it, such as cluvio, not
    its distribution name (secoda-connector-cluvio). The distribution that
    provides the connector is removed with `pip uninstall`.
    """
    from hub.errors import ConfigurationError
    from hub.registry.install import uninstall

    with hub_errors():
        entry = _installed_connector(name)
        if entry.distribution is None:
            raise ConfigurationError(f"connector {name!r} has no distribution")
        uninstall(entry.distribution)
    click.echo(f"uninstalled {name} ({entry.distribution})")


@click.command("publish")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@registry_file_option(
    "Registry file to add the version to, created when missing; the wheel is "
    "copied into the wheels/ folder beside it."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Build and check only, and change nothing. Without --registry, the "
    "version is checked against the first registry that reading commands use.",
)
@click.option(
    "--title",
    help="Marketplace title of a new connector. Default: title in the "
    "[tool.secoda-hub] table of PATH/pyproject.toml, else the name in title case.",
)
@click.option(
    "--category",
    default="uncategorized",
    show_default=True,
    help="Marketplace category of a new connector, e.g. bi or warehouse.",
)
@click.option("--icon", help="Icon URL of a new connector.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    help="Tag of a new connector (repeatable). Default: community.",
)
@pip_options
@exits_130_on_interrupt(
    "interrupted; the registry file either is unchanged or holds the new version"
)
def publish_command(
    path, registry_file, dry_run, title, category, icon, tags, find_links, no_index
) -> None:
    """Build the connector in PATH, check it and add it to a registry.

    The wheel is stored in wheels/ next to the registry file and its version
    is added as in_review; `hub registry review` publishes it.
    """
    from hub.registry.publish import Listing, publish

    listing = Listing(title, category, icon, tags or ("community",))
    with hub_errors():
        if dry_run and registry_file is None:
            # A dry run changes nothing, so it may check against the default.
            target = _registry_to_read(None)
        else:
            target = _registry_to_change(registry_file)
        result = publish(
            path,
            target,
            dry_run=dry_run,
            listing=listing,
            pip_options=pip_arguments(find_links, no_index),
        )
    click.echo(_publish_message(result, target))


@click.command("new")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to create the connector's project in.",
)
@click.option(
    "--no-input",
    is_flag=True,
    help="Prompt for nothing: take the answers from options, and the "
    "defaults for the rest. Needs --name.",
)
@click.option("--name", help="Connector name: lower case letters, digits, _.")
@click.option("--title", help="Marketplace title. Default: the name in title case.")
@click.option(
    "--description",
    help="One-sentence description. Default: Extracts dashboards and charts "
    "from TITLE.",
)
@click.option("--author", help="Maintainer's name. Default: Your Name.")
@click.option(
    "--base-url", help="Default API base URL. Default: https://api.example.com."
)
def new_command(output_dir, no_input, **given) -> None:
    """Create a connector distribution from the hub's template.

    Prompts for each answer that no option gives, unless --no-input is set.
    With --no-input, an answer without an option takes its default: the
    title from the name (acme_bi gives Acme Bi), the description "Extracts
    dashboards and charts from TITLE.", the author "Your Name" and the base
    URL https://api.example.com.
    """
    from hub.errors import ConfigurationError
    from hub.registry.template import PROMPTS, answer_problems, render

    options = {key: value for key, value in given.items() if value is not None}
    with hub_errors():
        problems = answer_problems(options)
        if problems:
            raise ConfigurationError("; ".join(problems))

    answers = {}
    for key, prompt, help_text in PROMPTS:
        value = options.get(key)
        if value is None and no_input:
            if key == "name":
                raise click.UsageError("--no-input needs --name")
            continue
        if value is None:
            value = click.prompt(
                f"{prompt} ({help_text})", value_proc=_answer_checker(key)
            )
        answers[key] = value
    with hub_errors():
        created = render(answers, output_dir)
    click.echo(f"created {created}")


def _answer_checker(key: str):
    """Return a value_proc that rejects an invalid answer, so click prompts again."""
    from hub.registry.template import answer_problems

    def check(value: str) -> str:
        problems = answer_problems({key: value})
        if problems:
            raise click.BadParameter(problems[0])
        return value

    return check


def _publish_message(result, target: Path) -> str:
    if result.outcome == "unchanged":
        return (
            f"{result.name} {result.version} is already in {target} with the "
            "same sha256; nothing changed"
        )
    if result.outcome == "validated":
        return f"{result.name} {result.version} passed every check (dry run)"
    return (
        f"added {result.name} {result.version} to {target} as in_review "
        f"(sha256 {result.sha256}, wheel {result.wheel_path})"
    )


def _registry_to_change(given: str | None) -> Path:
    from hub.registry.sources import writable_registry

    return writable_registry(given)


def _registry_to_read(given: Path | None) -> Path:
    from hub.registry.sources import configured_locations, is_url

    if given is not None:
        return given
    first = configured_locations()[0]
    if is_url(first):
        raise click.UsageError(
            f"registry {first} is a URL; give a local file with --registry FILE"
        )
    return Path(first)


def _installed_connector(name: str):
    """Find connector ``name``; name the connector when given its distribution."""
    from hub.connectors import discover, find
    from hub.errors import ConnectorNotFoundError
    from hub.registry.models import normalize_distribution

    try:
        return find(name)
    except ConnectorNotFoundError:
        for entry in discover().entries:
            distribution = entry.distribution or ""
            if normalize_distribution(distribution) == normalize_distribution(name):
                raise ConnectorNotFoundError(
                    f"{name} is the distribution of connector {entry.name!r}; "
                    f"run `hub uninstall {entry.name}`"
                ) from None
        raise


def _load(registries):
    from hub.registry.sources import describe_age, load_registries

    loaded = load_registries(registries)
    warned = set()
    for source in loaded:
        if source.stale_seconds is None or source.origin in warned:
            continue
        warned.add(source.origin)
        click.echo(
            f"warning: registry {source.origin} is unreachable "
            f"({source.fetch_error}); using the copy cached "
            f"{describe_age(source.stale_seconds)} ago",
            err=True,
        )
    return loaded


def _installed_versions() -> dict[str, str | None]:
    from hub.connectors import discover

    return {entry.name: entry.version for entry in discover().entries}


def _haystack(connector) -> str:
    parts = [
        connector.name,
        connector.title,
        connector.description,
        connector.category,
        *connector.tags,
    ]
    return " ".join(parts).lower()


def _rows(registries, keep) -> list[dict]:
    from hub.registry.sources import merged

    with hub_errors():
        loaded = _load(registries)
    installed = _installed_versions()
    return [
        _row(resolved, installed.get(resolved.connector.name), len(loaded) > 1)
        for resolved in merged(loaded)
        if keep(resolved)
    ]


def _row(resolved, installed_version, several) -> dict:
    from packaging.version import Version

    connector = resolved.connector
    latest = connector.latest()
    newer = bool(
        latest
        and installed_version
        and Version(latest.version) > Version(installed_version)
    )
    row = {
        "name": connector.name,
        "title": connector.title,
        "latest": latest.version if latest else None,
        "installed": installed_version,
        "update": newer,
        "category": connector.category,
        "tags": connector.tags,
    }
    if several:
        row["registry"] = resolved.source.origin
    return row


def _echo_rows(rows: list[dict], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No connectors found.")
        return
    columns = ["name", "title", "latest", "installed", "update", "category", "tags"]
    if "registry" in rows[0]:
        columns.append("registry")
    table = [[_cell(row[column]) for column in columns] for row in rows]
    echo_table(columns, table)


def _cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "-"
    if isinstance(value, list):
        return ",".join(value) or "-"
    return "-" if value is None else str(value)


def _describe_entry(resolved, installed_version) -> dict:
    data = resolved.connector.model_dump(mode="json", exclude_none=True)
    row = _row(resolved, installed_version, several=False)
    data["installed"] = installed_version
    data["update"] = row["update"]
    data["latest"] = row["latest"]
    data["registry"] = resolved.source.origin
    data["also_in"] = list(resolved.shadowed)
    return data


def _echo_entry(data: dict) -> None:
    click.echo(f"{data['name']}: {data['title']} ({data['distribution']})")
    click.echo(f"  {data['description']}")
    click.echo(f"  registry   {data['registry']}")
    for origin in data["also_in"]:
        click.echo(f"  shadows    {origin} (lists the same name; not used)")
    click.echo(f"  category   {data['category']}, tags {_cell(data['tags'])}")
    click.echo(f"  installed  {_cell(data['installed'])}")
    if data["update"]:
        click.echo(f"  update     {data['latest']} is available")
    fields = [
        f"{field['name']}{'' if field['required'] else '?'}"
        f"{' (secret)' if field['secret'] else ''}"
        for field in data["credential_fields"]
    ]
    click.echo(f"  fields     {', '.join(fields) or '-'}")
    click.echo(f"  hosts      {', '.join(data['allowed_hosts']) or '-'}")
    versions = [
        [item["version"], item["status"], item["published_at"], item["sha256"][:16]]
        for item in data["versions"]
    ]
    if versions:
        click.echo("")
        echo_table(["version", "status", "published", "sha256"], versions)
