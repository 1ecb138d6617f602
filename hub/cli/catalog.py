"""``hub runs`` and ``hub catalog``: questions about what runs have stored."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator
from pathlib import Path

import click

from hub.cli.errors import hub_errors
from hub.cli.output import echo_json, echo_table
from hub.messages import escape_controls, one_line

# The largest --limit: far above any catalog a person reads page by page,
# and far below the 64-bit integer that SQLite and PostgreSQL accept.
MAX_LIMIT = 10_000_000

catalog_option = click.option(
    "--catalog",
    "location",
    metavar="PATH_OR_URL",
    help="Catalog file or database URL to read. "
    "Default: SECODA_HUB_CATALOG, else catalog.sqlite in the hub's data directory.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON."
)
connector_option = click.option(
    "--connector", help="Only rows of this connector (its `hub list` name)."
)
profile_option = click.option(
    "--profile", help="Only rows of this credentials profile, such as default."
)


def open_existing(location: str | None):
    """Open an existing catalog read-only, without creating or migrating it.

    A missing file or an empty database raises CatalogNotFoundError, and a
    catalog of an older schema version CatalogOutdatedError.
    """
    from hub.catalog import open_catalog
    from hub.paths import default_catalog_location

    return open_catalog(location or default_catalog_location(), read_only=True)


@contextlib.contextmanager
def opened_catalog(location: str | None) -> Iterator:
    """Open an existing catalog read-only, turning hub errors into CLI errors."""
    with hub_errors():
        catalog = open_existing(location)
        try:
            yield catalog
        finally:
            catalog.close()


@click.command("runs")
@click.argument("name", required=False)
@catalog_option
@json_option
def runs_command(name: str | None, location: str | None, as_json: bool) -> None:
    """Show the run history, oldest first, optionally of one connector.

    A run left "running" by a process that no longer exists is shown as
    "interrupted": it was killed and changed nothing in the catalog. When no
    catalog exists yet (no file, an empty file or an empty database), the
    history is empty (exit status 0) and nothing is created.
    """
    from hub.catalog.queries import run_connectors, run_history
    from hub.errors import CatalogNotFoundError

    with hub_errors():
        try:
            catalog = open_existing(location)
        except CatalogNotFoundError as error:
            _echo_no_catalog(error.location, as_json)
            return
        try:
            history = run_history(catalog, name)
            connectors = run_connectors(catalog) if name and not history else []
        finally:
            catalog.close()
    if as_json:
        echo_json(history)
        return
    if connectors:
        click.echo(
            f"No runs of connector {name!r} recorded. "
            f"Connectors with runs: {', '.join(connectors)}."
        )
        return
    if not history:
        click.echo("No runs recorded yet.")
        return
    headers = ("id", "connector", "profile", "status", "started", "duration")
    headers += ("resources", "lineage", "error")
    echo_table(headers, [_run_row(run) for run in history])


def _echo_no_catalog(location: str, as_json: bool) -> None:
    if as_json:
        echo_json([])
    else:
        click.echo(f"No runs recorded yet: no catalog exists yet at {location}.")


def _run_row(run: dict) -> list:
    duration = run["duration_seconds"]
    return [
        run["id"],
        run["connector"],
        run["profile"],
        run["status"],
        run["started_at"][:19].replace("T", " "),
        "-" if duration is None else f"{duration:.1f}s",
        f"{run['resources']:,}",
        f"{run['lineage']:,}",
        one_line(run["error"] or "")[:60],
    ]


@click.group("catalog")
def catalog_group() -> None:
    """Query the catalog: resources, one resource, lineage, and export.

    These commands only read, and never create a catalog or change its
    schema; `hub catalog migrate` upgrades a catalog of an older version.
    """


@catalog_group.command("migrate")
@click.option(
    "--catalog",
    "location",
    metavar="PATH_OR_URL",
    help="Catalog file or database URL to upgrade. "
    "Default: SECODA_HUB_CATALOG, else catalog.sqlite in the hub's data directory.",
)
def migrate_command(location: str | None) -> None:
    """Upgrade an existing catalog to this hub's schema version, in place.

    A `hub run` into the catalog upgrades it too. Exits with 2, changing
    nothing, when no catalog exists at the location.
    """
    from hub.catalog import SCHEMA_VERSION, display_location, open_catalog
    from hub.errors import CatalogOutdatedError
    from hub.paths import default_catalog_location

    with hub_errors():
        location = location or default_catalog_location()
        shown = display_location(location)
        try:
            open_existing(location).close()
        except CatalogOutdatedError as outdated:
            open_catalog(location).close()
            click.echo(
                f"migrated catalog {shown} from schema version {outdated.version} "
                f"to {SCHEMA_VERSION}"
            )
            return
    click.echo(f"catalog {shown} is already at schema version {SCHEMA_VERSION}")


@catalog_group.command("resources")
@connector_option
@profile_option
@click.option("--type", "entity_type", help="Only this entity type, such as chart.")
@click.option(
    "--stale/--fresh",
    default=None,
    help="Only stale resources (no longer declared) or only fresh ones. Default: both.",
)
@click.option(
    "--search", metavar="TEXT", help="Only ids or titles containing TEXT (any case)."
)
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=MAX_LIMIT),
    default=100,
    show_default=True,
    help="Maximum number of resources to print. `hub catalog export` writes "
    "every fresh resource.",
)
@catalog_option
@json_option
def resources_command(
    connector, profile, entity_type, stale, search, limit, location, as_json
) -> None:
    """List resources in the catalog, ordered by id."""
    from hub.catalog.queries import ResourceFilter, find_resources

    # One row more than the limit shows whether the list was cut.
    wanted = ResourceFilter(connector, profile, entity_type, stale, search, limit + 1)
    with opened_catalog(location) as catalog:
        rows = find_resources(catalog, wanted)
    if len(rows) > limit:
        rows = rows[:limit]
        click.echo(
            f"note: more resources match; these are the first {limit:,}. Pass "
            f"a larger --limit (at most {MAX_LIMIT:,}) or narrower filters",
            err=True,
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No resources match.")
        return
    headers = ("id", "type", "title", "connector", "profile", "state")
    echo_table(headers, [_resource_row(row) for row in rows])


def _resource_row(row: dict) -> list:
    state = "stale" if row["stale"] else "fresh"
    cells = (row["databuilder_id"], row["entity_type"], row["title"] or "")
    return [*map(one_line, cells), row["connector"], row["profile"], state]


def resolve_resource(catalog, identifier: str, connector, profile) -> dict:
    """Return the one (connector, profile) holding ``identifier``, or fail."""
    from hub.catalog.queries import match_resource

    matches = match_resource(catalog, identifier, connector, profile)
    if not matches:
        raise click.UsageError(
            f"no resource {identifier!r} in the catalog; list ids with "
            "`hub catalog resources --search TEXT`"
        )
    if len(matches) > 1:
        choices = "\n".join(f"  {_choice_options(match)}" for match in matches)
        raise click.UsageError(
            f"resource id {identifier!r} exists in {len(matches)} connector "
            f"profiles; pick one with:\n{choices}"
        )
    return matches[0]


def _choice_options(match: dict) -> str:
    # Shell-quoted, because only the CLI checks profile names. A library run
    # can store a profile with a space, which must still paste as one word.
    words = ["--connector", match["connector"], "--profile", match["profile"]]
    return shlex.join(words)


@catalog_group.command("show")
@click.argument("identifier", metavar="ID")
@connector_option
@profile_option
@catalog_option
@json_option
def show_command(identifier, connector, profile, location, as_json) -> None:
    """Show every field of one resource, its family and its lineage."""
    from hub.catalog.queries import describe_resource

    with opened_catalog(location) as catalog:
        match = resolve_resource(catalog, identifier, connector, profile)
        described = describe_resource(
            catalog, identifier, match["connector"], match["profile"]
        )
    if as_json:
        echo_json(described)
        return
    _print_resource(described)


def _print_resource(described: dict) -> None:
    body = described["body"]
    for name in ("databuilder_id", "connector", "profile"):
        _echo_field(name, described[name])
    click.echo(f"state: {'stale' if described['stale'] else 'fresh'}")
    for name in ("first_run_id", "changed_run_id", "stale_run_id"):
        click.echo(f"{name}: {described[name] if described[name] else '-'}")
    for name, value in body.items():
        if name != "databuilder_id":
            _echo_field(name, value)
    _echo_field("parent", described["parent_databuilder_id"] or "-")
    _echo_field("children", ", ".join(described["children"]) or "-")
    for title, edges, side in (
        ("lineage in", described["lineage_in"], "from"),
        ("lineage out", described["lineage_out"], "to"),
    ):
        click.echo(f"{title}: {len(edges)}")
        for edge in edges:
            ref = one_line(edge[side + "_ref"])
            click.echo(f"  {ref} ({_edge_notes(edge, side)})")


def _echo_field(name: str, value) -> None:
    # Values come from the connector, so a control character in one must
    # not act on the terminal. Newlines stay, for multi-line descriptions.
    click.echo(f"{escape_controls(str(name))}: {escape_controls(str(value))}")


def _edge_notes(edge: dict, side: str) -> str:
    notes = [edge[f"{side}_type"]]
    for flag, note in (("stale", "stale"), ("unresolved", "unresolved")):
        if edge[flag]:
            notes.append(note)
    if edge["derived_from"]:
        notes.append("resolved from SQL")
    return ", ".join(notes)


@catalog_group.command("lineage")
@click.argument("identifier", metavar="ID")
@click.option(
    "--upstream/--downstream",
    default=None,
    help="Required: walk towards the sources of ID (--upstream), or towards "
    "what depends on it (--downstream).",
)
@click.option(
    "--depth",
    # The same bound as MAX_LINEAGE_DEPTH, which is not imported here so that
    # --help stays fast.
    type=click.IntRange(min=1, max=100),
    default=3,
    show_default=True,
    help="Maximum number of edges to walk from ID, at most 100.",
)
@connector_option
@profile_option
@catalog_option
@json_option
def lineage_command(
    identifier, upstream, depth, connector, profile, location, as_json
) -> None:
    """Print the fresh lineage of one resource as a tree.

    Give a direction, --upstream or --downstream. Upstream, a SQL query
    lists the external tables resolved from it.
    """
    from hub.catalog.queries import MAX_TREE_NODES, lineage_tree

    if upstream is None:
        raise click.UsageError("choose a direction: --upstream or --downstream")
    with opened_catalog(location) as catalog:
        match = resolve_resource(catalog, identifier, connector, profile)
        tree = lineage_tree(
            catalog, identifier, match["connector"], match["profile"], upstream, depth
        )
    if as_json:
        echo_json(tree.as_dict())
    else:
        click.echo(one_line(tree.ref))
        for line in tree_lines(tree.children, ""):
            click.echo(line)
    if tree.truncated:
        click.echo(
            f"warning: the tree stops at its first {MAX_TREE_NODES:,} ends; pass "
            "a smaller --depth, or start from a resource further along",
            err=True,
        )


def tree_lines(nodes, prefix: str) -> Iterator[str]:
    """Yield one line per node, indented with box-drawing characters."""
    for position, node in enumerate(nodes):
        last = position == len(nodes) - 1
        note = f", {node.note}" if node.note else ""
        label = f"{one_line(node.ref)} ({node.type}{note})"
        yield f"{prefix}{'└── ' if last else '├── '}{label}"
        yield from tree_lines(node.children, prefix + ("    " if last else "│   "))


@catalog_group.command("export")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@connector_option
@profile_option
@catalog_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object with the directory and the line count of each "
    'file, such as {"directory": "out", "resources.jsonl": 176, '
    '"lineage.jsonl": 325}.',
)
def export_command(directory, connector, profile, location, as_json) -> None:
    """Write one profile's fresh resources and lineage in Secoda's upload format.

    Writes DIR/resources.jsonl and DIR/lineage.jsonl, each replaced in one
    rename. Lineage derived by the hub from SQL is left out. --connector and
    --profile may be left out when the catalog has fresh rows of only one
    connector profile that matches them.
    """
    from hub.catalog.export import choose_profile, export_upload

    with opened_catalog(location) as catalog, hub_errors():
        connector, profile = choose_profile(catalog, connector, profile)
        counts = export_upload(catalog, directory, connector, profile)
    if as_json:
        echo_json(
            {
                "directory": str(directory),
                "connector": connector,
                "profile": profile,
                **counts,
            }
        )
        return
    for name, count in counts.items():
        click.echo(f"{directory / name}: {count:,} lines")
