"""Running one connector: credentials in, declared models and statistics out.

The connector sees only the plain dict of its own profile's credentials and
the two strategies it was built with. Everything it declares flows through
:class:`HubIngestStrategy` to the run's sinks, so a later version can move the
connector into a child process by carrying those two streams across a pipe.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub import credentials as credential_values
from hub.catalog import SQLiteCatalog, display_location, now
from hub.connectors import ConnectorEntry, load_class
from hub.errors import CatalogURLError, ConnectorRunError, IntegrationError
from hub.paths import config_dir
from hub.plugins import get_plugin_manager
from hub.redaction import Redactor
from hub.sdk.http import PooledNetworkStrategy
from hub.sdk.models import DeclaredLineage, Resource
from hub.sdk.strategies import IngestResourcesStrategy
from hub.sinks import RunSink

logger = logging.getLogger(__name__)

# How often, in seconds, the progress callback may fire.
PROGRESS_INTERVAL = 0.1


@dataclass
class Progress:
    """Live counts of a run, passed to the progress callback."""

    resources_by_type: Counter = field(default_factory=Counter)
    lineage: int = 0
    requests: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def resources(self) -> int:
        return sum(self.resources_by_type.values())

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


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
    catalog: dict[str, Any]
    outputs: list[str]
    run_id: int | None = None
    error: str | None = None

    @property
    def resources(self) -> int:
        return sum(self.resources_by_type.values())

    def as_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in vars(self).items()}
        data["resources"] = self.resources
        return data


class HubIngestStrategy(IngestResourcesStrategy):
    """Serialises each declared model once and hands it to every sink."""

    def __init__(
        self,
        sinks: list[RunSink],
        progress: Progress,
        on_progress: Callable[[Progress], None] | None = None,
        network: PooledNetworkStrategy | None = None,
    ):
        self.sinks = sinks
        self.progress = progress
        self.on_progress = on_progress
        self.network = network
        self._last_report = 0.0

    def declare_resource(self, resource: Resource):
        body = resource.model_dump_json(exclude_none=True)
        for sink in self.sinks:
            sink.write_resource(resource, body)
        self.progress.resources_by_type[resource.entity_type] += 1
        self._report()

    def declare_lineage(self, lineage: DeclaredLineage):
        body = lineage.model_dump_json(exclude_none=True)
        for sink in self.sinks:
            sink.write_lineage(lineage, body)
        self.progress.lineage += 1
        self._report()

    def finalize(self):
        self._report(force=True)

    def _report(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        current = time.monotonic()
        if force or current - self._last_report >= PROGRESS_INTERVAL:
            self._last_report = current
            if self.network is not None:
                self.progress.requests = self.network.stats.requests
            self.on_progress(self.progress)


@dataclass
class RunRequest:
    """What to run and where its results go."""

    entry: ConnectorEntry
    profile: str = credential_values.DEFAULT_PROFILE
    catalog_location: str | None = None
    output_dir: Path | None = None
    on_progress: Callable[[Progress], None] | None = None


def open_catalog(location: str) -> SQLiteCatalog:
    """Open the catalog at ``location`` through the first plugin that handles it."""
    catalog = get_plugin_manager().hook.hub_open_catalog(location=location)
    if catalog is None:
        # TODO: PostgreSQL catalogs need a backend; only SQLite ships so far.
        raise CatalogURLError(
            f"no catalog backend handles {display_location(location)!r}; "
            "give a file path or a sqlite:///path URL"
        )
    return catalog


def open_credential_store() -> credential_values.CredentialStore:
    return get_plugin_manager().hook.hub_open_credential_store(config_dir=config_dir())


def prepare_credentials(
    entry: ConnectorEntry, profile: str, fields, redactor: Redactor
) -> dict[str, str]:
    """Return the run's credentials, adding their secret values to ``redactor``."""
    stored = open_credential_store().get(entry.name, profile)
    values = credential_values.resolve(entry.name, profile, fields, stored)
    for name in credential_values.secret_field_names(fields, values):
        redactor.add(values[name])
    return values


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
    fields = connector_class.credential_fields
    values = prepare_credentials(entry, request.profile, fields, redactor)

    location = request.catalog_location or _default_catalog()
    catalog = open_catalog(location)
    try:
        return _run_into(catalog, request, connector_class, values, redactor)
    finally:
        catalog.close()


def _default_catalog() -> str:
    from hub.paths import default_catalog_location

    return default_catalog_location()


def _run_into(catalog, request, connector_class, values, redactor) -> RunReport:
    entry = request.entry
    started_at = now()
    run_id = catalog.begin_run(
        entry.name, request.profile, entry.distribution, entry.version
    )
    sync = catalog.open_sync(run_id, entry.name, request.profile)
    outputs = _open_outputs(request.output_dir)
    sinks = [sync, *outputs]

    progress = Progress()
    network = PooledNetworkStrategy()
    ingest = HubIngestStrategy(sinks, progress, request.on_progress, network)
    logger.info(
        "run %d of %s (profile %s) started", run_id, entry.name, request.profile
    )

    try:
        connector = connector_class(
            credentials=dict(values),
            ingest_resources_strategy=ingest,
            network_call_strategy=network,
        )
        connector.start()
    except BaseException as error:
        network.finalize()
        for sink in sinks:
            sink.abort()
        message = redactor(describe_failure(error))
        report = _report(
            entry, request, progress, network, started_at, "failed", outputs
        )
        report.run_id, report.error = run_id, message
        catalog.fail_run(run_id, message, report.as_dict())
        logger.info("run %d of %s failed: %s", run_id, entry.name, message)
        if not isinstance(error, Exception):
            raise
        failure = ConnectorRunError(f"connector {entry.name!r} failed: {message}")
        failure.report = report
        raise failure from error

    network.finalize()
    report = _report(
        entry, request, progress, network, started_at, "succeeded", outputs
    )
    report.run_id = run_id
    for output in outputs:
        output.commit()
    sync.summary = report.as_dict()
    sync.commit()
    report.catalog = {
        "location": display_location(catalog.location),
        "run_id": run_id,
        **sync.summary["catalog"],
    }
    logger.info("run %d of %s succeeded", run_id, entry.name)
    return report


def _open_outputs(output_dir: Path | None) -> list[RunSink]:
    opened = get_plugin_manager().hook.hub_open_outputs(output_dir=output_dir)
    return [sink for sinks in opened if sinks for sink in sinks]


def _report(
    entry, request, progress, network, started_at, status, outputs
) -> RunReport:
    return RunReport(
        connector=entry.name,
        profile=request.profile,
        distribution=entry.distribution,
        version=entry.version,
        status=status,
        started_at=started_at,
        finished_at=now(),
        duration_seconds=round(progress.elapsed, 3),
        resources_by_type=dict(sorted(progress.resources_by_type.items())),
        lineage=progress.lineage,
        http=network.stats.as_dict(),
        catalog={},
        outputs=[
            str(path) for output in outputs for path in getattr(output, "paths", [])
        ],
    )


def describe_failure(error: BaseException) -> str:
    """Describe a connector's exception in one line."""
    if isinstance(error, IntegrationError):
        return str(error)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
