"""Running one connector: credentials in, declared models and statistics out.

The connector sees only the plain dict of its own profile's credentials and
the two strategies it was built with. Everything it declares flows through
:class:`~hub.ingest.HubIngestStrategy` to the run's sinks, so a later version
can move the connector into a child process by carrying those two streams
across a pipe.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub import credentials as credential_values
from hub.catalog import DEFAULT_STALE_THRESHOLD, display_location, now, open_catalog
from hub.connector_streams import connector_output_to_stderr
from hub.connectors import ConnectorEntry, load_class
from hub.errors import (
    AuthenticationError,
    CatalogError,
    ConnectorRunError,
    IntegrationError,
    MissingCredentialsError,
    OutputError,
    RunInterruptedError,
)
from hub.ingest import HubIngestStrategy, Progress
from hub.messages import describe_exception, safe_message
from hub.paths import default_catalog_location
from hub.plugins import get_plugin_manager
from hub.redaction import Redactor
from hub.sdk.http import PooledNetworkStrategy
from hub.sinks import RunSink
from hub.validation import Validator

logger = logging.getLogger(__name__)


@dataclass
class RunReport:
    """The outcome of one run, as the CLI prints it."""

    connector: str
    profile: str
    distribution: str | None
    version: str | None
    status: str
    started_at: str
    finished_at: str
    duration_seconds: float
    resources_by_type: dict[str, int]
    lineage: int
    http: dict[str, Any]
    validation: dict[str, Any]
    sql_lineage: dict[str, int]
    catalog: dict[str, Any]
    outputs: list[str]
    run_id: int | None = None
    error: str | None = None
    # Strings in declared models that held a secret, stored as [redacted].
    redacted_values: int = 0
    # Upload files left as they were, because the stale fail-safe tripped.
    withheld_outputs: list[str] = field(default_factory=list)

    @property
    def resources(self) -> int:
        return sum(self.resources_by_type.values())

    def as_dict(self) -> dict[str, Any]:
        data = dict(vars(self))
        data["resources"] = self.resources
        return data


@dataclass
class RunRequest:
    """What to run, how strictly, and where its results go."""

    entry: ConnectorEntry
    profile: str = credential_values.DEFAULT_PROFILE
    catalog_location: str | None = None
    output_dir: Path | None = None
    strict: bool = False
    allow_mass_stale: bool = False
    stale_threshold: float = DEFAULT_STALE_THRESHOLD
    on_progress: Callable[[Progress], None] | None = None


@dataclass
class _Run:
    """The parts of one run in progress, closed together when it ends."""

    request: RunRequest
    catalog: Any
    run_id: int
    sync: Any
    outputs: list[RunSink]
    network: PooledNetworkStrategy
    ingest: HubIngestStrategy
    started_at: str

    @property
    def sinks(self) -> list[RunSink]:
        return [self.sync, *self.outputs]


def command_target(entry: ConnectorEntry) -> str:
    """Return how a user names this connector on the command line."""
    return entry.target if entry.origin == "file" else entry.name


def credentials_command(entry: ConnectorEntry, profile: str) -> str:
    """Return the ``hub credentials set`` command for one connector profile.

    Each argument is shell-quoted, so a file path with spaces pastes as one.
    """
    words = ["hub", "credentials", "set", command_target(entry)]
    if profile != credential_values.DEFAULT_PROFILE:
        words += ["--profile", profile]
    return shlex.join(words)


# One word as shlex.quote writes it: only characters that need no quoting,
# or the whole word in '...' with each ' inside written as '"'"'.
_QUOTED_WORD = r"""(?:[\w@%+=:,./-]+|'[^']*'(?:"'"'[^']*')*)"""


def point_hints_at_profile(message: str, entry: ConnectorEntry, profile: str) -> str:
    """Make each ``hub credentials set NAME`` in ``message`` name the run's profile.

    Connectors and the credential layer name the connector by its stored
    name and may leave the profile out. The user must run the command with
    the file path of a file connector, and with ``--profile`` for any
    profile other than the default. A ``--profile`` already in the command
    is replaced whole, as one shell word.
    """
    pattern = re.compile(
        rf"hub credentials set {re.escape(entry.name)}(?![\w.:/-])"
        rf"(?: --profile {_QUOTED_WORD})?"
    )
    return pattern.sub(lambda _: credentials_command(entry, profile), message)


def prepare_credentials(
    entry: ConnectorEntry, profile: str, fields, redactor: Redactor
) -> credential_values.RunCredentials:
    """Return the run's credentials, adding their secret values to ``redactor``."""
    try:
        return credential_values.load_run_credentials(
            entry.name, profile, fields, redactor
        )
    except MissingCredentialsError as error:
        message = point_hints_at_profile(str(error), entry, profile)
        raise MissingCredentialsError(message, error.missing) from None


def allow_hint(entry: ConnectorEntry, profile: str) -> Callable[[str], str]:
    """Build the text that tells the user how to allow one more host."""

    def hint(host: str) -> str:
        return (
            f"allow it for this profile with "
            f"`{credentials_command(entry, profile)} --allow-host {shlex.quote(host)}`"
        )

    return hint


def run(request: RunRequest, redactor: Redactor | None = None) -> RunReport:
    """Run one connector into the catalog and the requested outputs.

    Secret credential values are added to ``redactor``, which the caller may
    share with its log handlers. Raises :class:`ConnectorRunError`, with the
    report attached as ``report``, when the connector fails; the catalog then
    holds the failed run record and nothing the connector declared.
    """
    entry = request.entry
    redactor = Redactor() if redactor is None else redactor
    connector_class = load_class(entry)
    values = prepare_credentials(
        entry, request.profile, connector_class.credential_fields, redactor
    )
    allowed = credential_values.network_allowlist(
        connector_class.allowed_hosts, entry.name, request.profile
    )

    catalog = open_catalog(request.catalog_location or default_catalog_location())
    try:
        state = _start(catalog, request, connector_class, values, allowed, redactor)
        return _execute(state, connector_class, values, redactor)
    finally:
        catalog.close()


def _start(catalog, request, connector_class, values, allowed, redactor) -> _Run:
    entry = request.entry
    # Opened first, so an output directory that cannot be written stops the
    # run before it is recorded.
    outputs = _open_outputs(request.output_dir)
    try:
        run_id = catalog.begin_run(
            entry.name, request.profile, entry.distribution, entry.version
        )
        sync = catalog.open_sync(
            run_id,
            entry.name,
            request.profile,
            allow_mass_stale=request.allow_mass_stale,
            stale_threshold=request.stale_threshold,
        )
    except BaseException:
        for output in outputs:
            output.abort()
        raise
    network = PooledNetworkStrategy(
        allowed_hosts=allowed,
        secrets=[values[name] for name in values.secret_names],
        allow_hint=allow_hint(entry, request.profile),
    )
    ingest = HubIngestStrategy(
        [sync, *outputs],
        Progress(),
        validator=Validator(strict=request.strict),
        redactor=redactor,
        catalog_sink=sync,
        prepare_sql=connector_class.prepare_sql,
        sql_dialect=connector_class.sql_dialect,
        on_progress=request.on_progress,
        request_count=lambda: network.stats.requests,
    )
    logger.info(
        "run %d of %s (profile %s) started", run_id, entry.name, request.profile
    )
    return _Run(request, catalog, run_id, sync, outputs, network, ingest, now())


def _execute(state: _Run, connector_class, values, redactor: Redactor) -> RunReport:
    # NOTE: a connector that calls os._exit() ends the process inside this
    # block, so nothing records the end of the run and `hub run` prints
    # nothing. The run stays "running" in the catalog, and `hub runs` shows it
    # as interrupted once it finds its process gone.
    try:
        with connector_output_to_stderr(redactor):
            connector = connector_class(
                credentials=values,
                ingest_resources_strategy=state.ingest,
                network_call_strategy=state.network,
            )
            connector.start()
    except BaseException as error:
        # SystemExit fails the run like any other error, because only the hub
        # decides the exit status of `hub run` (KeyboardInterrupt gives 130).
        _fail(state, error, redactor)

    state.network.finalize()
    report = _report(state, "succeeded")
    state.sync.summary = report.as_dict()
    try:
        state.sync.commit()
    except (CatalogError, KeyboardInterrupt) as error:
        # NOTE: Ctrl-C after the merge transaction commits, while the staging
        # connection closes, records a run as failed whose data was merged.
        _fail(state, error, redactor)
    report.catalog = {
        "location": display_location(state.catalog.location),
        "run_id": state.run_id,
        **state.sync.summary.get("catalog", {}),
    }
    # The upload files replace the previous ones only once the catalog contains
    # the same sync, so the two never disagree after a failed merge.
    if state.sync.result.stale_guard is None:
        _commit_outputs(state, report)
    else:
        # Uploaded, files that lack what the fail-safe kept fresh would mark
        # it stale in Secoda, which is what the fail-safe is there to stop.
        for output in state.outputs:
            output.abort()
        report.withheld_outputs, report.outputs = report.outputs, []
    logger.info("run %d of %s succeeded", state.run_id, state.request.entry.name)
    return report


def _commit_outputs(state: _Run, report: RunReport) -> None:
    """Write the upload files, or raise OutputError with the run's report."""
    for position, output in enumerate(state.outputs):
        try:
            output.commit()
        except OutputError as error:
            for later in state.outputs[position + 1 :]:
                later.abort()
            export = shlex.join(
                ["hub", "catalog", "export", "DIR", "--connector"]
                + [state.request.entry.name, "--profile", state.request.profile]
            )
            report.error = (
                f"{error}; the catalog holds the sync of run {state.run_id}, so "
                f"`{export}` can write the files from it"
            )
            failure = OutputError(report.error)
            failure.report = report
            raise failure from error


def _fail(state: _Run, error: BaseException, redactor: Redactor):
    """Discard what the run declared, record it as failed, and raise."""
    state.network.finalize()
    for sink in state.sinks:
        sink.abort()

    entry, profile = state.request.entry, state.request.profile
    message = redactor(describe_failure(error, credentials_command(entry, profile)))
    # Redacted before capping, so the cut never leaves part of a secret.
    message = safe_message(point_hints_at_profile(message, entry, profile))
    report = _report(state, "failed")
    report.error = message
    state.catalog.fail_run(state.run_id, message, report.as_dict())
    logger.info("run %d of %s failed: %s", state.run_id, entry.name, message)
    if isinstance(error, KeyboardInterrupt):
        failure = RunInterruptedError(
            f"run {state.run_id} of connector {entry.name!r} was interrupted; "
            "it is recorded as failed and the catalog keeps the previous sync"
        )
    else:
        failure = ConnectorRunError(f"connector {entry.name!r} failed: {message}")
    failure.report = report
    raise failure from error


def _open_outputs(output_dir: Path | None) -> list[RunSink]:
    opened = get_plugin_manager().hook.hub_open_outputs(output_dir=output_dir)
    return [sink for sinks in opened if sinks for sink in sinks]


def _report(state: _Run, status: str) -> RunReport:
    entry, progress = state.request.entry, state.ingest.progress
    return RunReport(
        connector=entry.name,
        profile=state.request.profile,
        distribution=entry.distribution,
        version=entry.version,
        status=status,
        started_at=state.started_at,
        finished_at=now(),
        duration_seconds=round(progress.elapsed, 3),
        resources_by_type=dict(sorted(progress.resources_by_type.items())),
        lineage=progress.lineage,
        http=state.network.stats.as_dict(),
        validation=state.ingest.validator.summary(),
        sql_lineage=state.ingest.sql.as_dict(),
        catalog={},
        outputs=[
            str(path) for sink in state.outputs for path in getattr(sink, "paths", [])
        ],
        run_id=state.run_id,
        redacted_values=state.ingest.redacted_values,
    )


def describe_failure(error: BaseException, credentials_hint: str = "") -> str:
    """Describe a connector's exception in one line.

    ``credentials_hint`` is the command that changes the run's credentials,
    added to a failed sign-in whose message gives no command of its own.
    An exception whose message cannot be formatted is described by its type
    name and ``repr()``, as :func:`hub.messages.describe_exception` does.
    """
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, SystemExit):
        return f"the connector called sys.exit({_safe_code(error)})"
    if not isinstance(error, IntegrationError):
        return describe_exception(error)
    try:
        text = str(error)
    except Exception:
        return describe_exception(error)
    if isinstance(error, AuthenticationError):
        if credentials_hint and "hub credentials set" not in text:
            text += f"; check the stored values with `{credentials_hint}`"
    return text


def _safe_code(error: SystemExit) -> str:
    try:
        return repr(error.code)
    except Exception:
        return f"<a {type(error.code).__name__} whose repr() failed>"
