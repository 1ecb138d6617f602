"""``hub list`` and ``hub run``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from hub.cli.errors import check_profile_option, exits_130_on_interrupt, hub_errors
from hub.cli.output import echo_json, echo_table, human_bytes
from hub.cli.progress import ProgressLine

LOG_HANDLER_NAME = "hub-cli"


@click.command("list")
@click.option(
    "--check",
    is_flag=True,
    help="Import each connector and report the ones that fail as broken.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_command(check: bool, as_json: bool) -> None:
    """List the installed connectors.

    Reads package metadata only, unless --check asks to import each one.
    Exits with 1 when --check finds a broken connector.
    """
    from hub.connectors import discover

    with hub_errors():
        discovery = discover()

    ambiguous = {entry.name for entry in discovery.conflicts}
    rows = [
        _describe(entry, check)
        for entry in discovery.entries
        if entry.name not in ambiguous
    ]
    for name in ambiguous:
        rows += _describe_conflict(name, discovery.providers(name))
    rows.sort(key=lambda row: row["name"])
    _warn_broken_plugins()

    if as_json:
        echo_json(rows)
        if any(row["status"] == "broken" for row in rows):
            sys.exit(1)
        return
    if not rows:
        click.echo("No connectors installed. Install one with pip, for example:")
        click.echo("  pip install ./connectors/cluvio")
        return
    columns = ("name", "distribution", "version", "status")
    echo_table(columns, [[row[c] or "-" for c in columns] for row in rows])
    # The providers of one ambiguous name share their message.
    errors = dict.fromkeys((row["name"], row["error"]) for row in rows if row["error"])
    for name, error in errors:
        click.echo(f"{name}: {error}", err=True)
    if any(row["status"] == "broken" for row in rows):
        sys.exit(1)


def _describe(entry, check: bool) -> dict:
    from hub.connectors import load_class
    from hub.errors import ConnectorLoadError

    row = {
        "name": entry.name,
        "distribution": entry.distribution,
        "version": entry.version,
        "target": entry.target,
        "status": "installed",
        "error": None,
    }
    if check:
        try:
            load_class(entry)
            row["status"] = "ok"
        except ConnectorLoadError as error:
            row["status"] = "broken"
            row["error"] = str(error)
    return row


def _describe_conflict(name: str, providers: list) -> list[dict]:
    """Describe each provider of an ambiguous name, which no command will run."""
    from hub.connectors import ambiguity_message

    error = ambiguity_message(name, providers)
    return [
        {
            "name": entry.name,
            "distribution": entry.distribution,
            "version": entry.version,
            "target": entry.target,
            "status": "conflict",
            "error": error,
        }
        for entry in providers
    ]


def _warn_broken_plugins() -> None:
    from hub.plugins import broken_plugins

    for plugin in broken_plugins():
        click.echo(
            f"warning: hub plugin {plugin.name} ({plugin.distribution}) "
            f"failed to load: {plugin.error}",
            err=True,
        )


@click.command("run")
@click.argument("connector")
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="Credential profile to run with.",
    callback=check_profile_option,
)
@click.option(
    "--catalog",
    "catalog_location",
    metavar="PATH_OR_URL",
    help="Catalog to write into: a SQLite file path, sqlite:///PATH (relative; "
    "sqlite:////PATH for an absolute path), or a "
    "postgresql://USER@HOST:PORT/DATABASE URL. Default: SECODA_HUB_CATALOG, "
    "else catalog.sqlite in the hub's data directory.",
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write resources.jsonl and lineage.jsonl, in Secoda's upload "
    "format, into this directory.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a live progress line on stderr. Default: when stderr is a terminal.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail the run on the first declared model that breaks Secoda's rules, "
    "instead of warning.",
)
@click.option(
    "--allow-mass-stale",
    is_flag=True,
    help="Mark rows stale even when the run would stale more than 20% of the "
    "profile's resources or of its lineage edges (a fail-safe against partial "
    "extractions).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log each HTTP request and show the traceback of a failure.",
)
# An interrupt while the connector runs arrives as a RunInterruptedError, which
# carries exit status 130 itself. This catches the rest, such as an interrupt
# while the connector's module imports.
@exits_130_on_interrupt("interrupted; `hub runs` shows whether a run was recorded")
def run_command(
    connector,
    profile,
    catalog_location,
    output_dir,
    as_json,
    progress,
    strict,
    allow_mass_stale,
    verbose,
):
    """Run a connector into the catalog and print a summary.

    CONNECTOR is an installed connector's name (see `hub list`), or the path
    of a single Python file defining one SecodaIntegration subclass, such as
    ./my_integration.py (or ./my_integration.py:ClassName). A file's
    credentials are stored under its file name without .py (plus _classname
    when a class is named).

    From the start of the command until the process exits, what Python code
    writes to sys.stdout or sys.stderr, including the connector's threads
    and atexit callbacks, goes to stderr with secret values redacted, so
    stdout carries only the summary. Writes to file descriptors 1 and 2
    themselves, as by a child process, are not redacted.

    Exit status: 0 on success, 1 when the connector failed, 2 for a usage or
    configuration error, 130 when Ctrl-C interrupted the run (the run is
    recorded as failed, and --json still prints its summary).
    """
    from hub.connector_streams import redirect_output_until_exit
    from hub.connectors import entry_from_file, find, is_file_spec
    from hub.redaction import Redactor, redacting_logs
    from hub.runner import RunRequest, run

    redactor = Redactor()
    # Before anything imports a connector, so a stream it keeps a reference
    # to is the redacting one.
    stdout = redirect_output_until_exit(redactor)
    # The text summary repeats the fail-safe's warning, so its log line goes.
    _configure_logging(verbose, redactor, hide_stale_guard=not as_json)
    with hub_errors(redactor):
        entry = (
            entry_from_file(connector) if is_file_spec(connector) else find(connector)
        )

    display = ProgressLine(entry.name, enabled=progress)
    request = RunRequest(
        entry=entry,
        profile=profile,
        catalog_location=catalog_location,
        output_dir=output_dir,
        strict=strict,
        allow_mass_stale=allow_mass_stale,
        on_progress=display,
    )
    try:
        with redacting_logs(redactor), hub_errors(redactor):
            report = _run_reporting_failure(
                run, request, redactor, verbose, display, stdout if as_json else None
            )
    finally:
        display.clear()

    if as_json:
        echo_json(report.as_dict(), file=stdout)
    else:
        _echo_summary(report, stdout)


def _run_reporting_failure(run, request, redactor, verbose, display, json_out):
    """Run, and on failure log the traceback and print the report to ``json_out``."""
    from hub.errors import ConnectorRunError, HubError, OutputError

    try:
        return run(request, redactor)
    except (ConnectorRunError, OutputError) as error:
        display.clear()
        if verbose:
            logging.getLogger("hub").error(
                "connector traceback", exc_info=error.__cause__
            )
        if json_out:
            echo_json(error.report.as_dict(), file=json_out)
        raise
    except HubError as error:
        # No run was started, as when the connector fails to import or its
        # credentials are missing, so the summary has only what the entry names.
        if json_out:
            echo_json(_not_started(request, redactor(str(error))), file=json_out)
        raise


def _not_started(request, message: str) -> dict:
    entry = request.entry
    return {
        "connector": entry.name,
        "profile": request.profile,
        "distribution": entry.distribution,
        "version": entry.version,
        "status": "failed",
        "run_id": None,
        "error": message,
    }


def _configure_logging(verbose: bool, redactor, hide_stale_guard: bool = False) -> None:
    from hub.redaction import RedactingFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(LOG_HANDLER_NAME)
    handler.setFormatter(
        RedactingFormatter(redactor, "%(levelname)s %(name)s: %(message)s")
    )
    if hide_stale_guard:
        handler.addFilter(_is_not_stale_guard_warning)
    root = logging.getLogger()
    # Replace the handler of an earlier command in the same process.
    for old in [h for h in root.handlers if h.get_name() == LOG_HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # httpx and httpcore log every connection step at DEBUG; the hub's own
    # request log line is enough.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _is_not_stale_guard_warning(record: logging.LogRecord) -> bool:
    """Drop the catalog's log line for the stale fail-safe."""
    return not getattr(record, "stale_guard", False)


def _echo_summary(report, out) -> None:
    version = f" {report.version}" if report.version else ""
    click.echo(
        f"{report.connector}{version} (profile {report.profile}): "
        f"{report.status} in {report.duration_seconds:.1f} s",
        file=out,
    )
    click.echo(f"  resources  {report.resources:,}", file=out)
    for entity_type, count in report.resources_by_type.items():
        click.echo(f"    {entity_type:<16} {count:>8,}", file=out)
    click.echo(f"  lineage    {report.lineage:,} edges", file=out)
    http = report.http
    click.echo(
        f"  http       {http['requests']:,} requests, {http['retries']:,} retries, "
        f"{human_bytes(http['bytes_received'])} received, "
        f"{http['seconds']:.2f} s in HTTP",
        file=out,
    )
    sql = report.sql_lineage
    if sql["queries"]:
        click.echo(
            f"  sql        {sql['queries']:,} queries read {sql['tables']:,} tables"
            f" ({sql['failed']:,} did not parse)",
            file=out,
        )
    _echo_catalog(report.catalog, out)
    if report.outputs:
        click.echo(f"  output     {', '.join(report.outputs)}", file=out)
    _warn_findings(report)


def _echo_catalog(catalog, out) -> None:
    click.echo(
        f"  catalog    {catalog['location']} (run {catalog['run_id']})", file=out
    )
    guard = catalog.get("stale_guard")
    for kind in ("resources", "lineage"):
        counts = catalog[kind]
        # Restored rows are also counted as changed or unchanged.
        restored = counts.get("restored", 0)
        click.echo(
            f"    {kind:<16} {counts['added']:,} added, {counts['changed']:,} "
            f"changed, {counts['unchanged']:,} unchanged, "
            f"{_stale_text(kind, counts, guard)}"
            f"{f' ({restored:,} fresh again)' if restored else ''}",
            file=out,
        )


def _stale_text(kind: str, counts: dict, guard: dict | None) -> str:
    if guard is None:
        return f"{counts['stale']:,} stale"
    # Whichever kind tripped the fail-safe ("resources" or "lineage edges"),
    # it keeps both fresh.
    if guard["kind"].startswith(kind):
        return f"{guard['would_stale']:,} kept fresh by the fail-safe"
    return "none marked stale (fail-safe)"


def _warn_findings(report) -> None:
    """Print what the run found wrong, on stderr, after the summary."""
    if report.redacted_values:
        click.echo(
            f"warning: {report.redacted_values:,} declared values contained a "
            "secret and were redacted",
            err=True,
        )
    violations = report.validation.get("violations", 0)
    if violations:
        rules = ", ".join(
            f"{rule} {count}" for rule, count in report.validation["by_rule"].items()
        )
        click.echo(f"warning: {violations:,} rule violations ({rules})", err=True)
    catalog = report.catalog
    for key, text in (
        ("duplicates", "declarations replaced an earlier one with the same id"),
        ("dangling", "lineage ends name no declared resource"),
    ):
        found = catalog.get(key) or {}
        if found.get("count"):
            examples = ", ".join(found["examples"])
            click.echo(f"warning: {found['count']:,} {text}: {examples}", err=True)
    guard = catalog.get("stale_guard")
    if guard:
        click.echo(f"warning: {guard['reason']}", err=True)
    if report.withheld_outputs:
        click.echo(
            "warning: the upload files were left as they were, because the "
            f"fail-safe marked nothing stale: {', '.join(report.withheld_outputs)}",
            err=True,
        )
