"""The catalog's sink for one run: stage every model, merge on commit."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.exc import DataError, DBAPIError

from hub.catalog import merge
from hub.catalog.engines import IMMEDIATE, display_location
from hub.catalog.records import SyncResult, digest, lineage_ref, now
from hub.catalog.schema import runs
from hub.catalog.staging import (
    LINEAGE_COLUMNS,
    RESOURCE_COLUMNS,
    StagingWriter,
    create_staging,
    discard_staging,
    find_dangling,
    sort_staging,
)
from hub.errors import CatalogError
from hub.sdk.models import DeclaredLineage, Resource

if TYPE_CHECKING:
    from hub.catalog.store import Catalog

logger = logging.getLogger(__name__)

# Rows held in memory before they are written to the staging tables.
BATCH_SIZE = 10_000

# Share of a profile's fresh resources that one run may mark stale before
# the fail-safe keeps them fresh instead.
DEFAULT_STALE_THRESHOLD = 0.2


class CatalogSync:
    """Stages one run's models on its own connection and merges them on commit.

    Nothing staged is visible to other connections until :meth:`commit`,
    which merges everything in one transaction, so readers see either the
    previous or the new state of the profile.
    """

    def __init__(
        self,
        catalog: Catalog,
        run_id: int,
        connector: str,
        profile: str,
        allow_mass_stale: bool = False,
        stale_threshold: float = DEFAULT_STALE_THRESHOLD,
    ):
        self.catalog = catalog
        self.run_id = run_id
        self.key = {"connector": connector, "profile": profile}
        self.allow_mass_stale = allow_mass_stale
        self.stale_threshold = stale_threshold
        self.result: SyncResult | None = None
        self.summary: dict[str, Any] = {}
        self.connection = catalog.engine.connect()
        create_staging(self.connection)
        self._resources = StagingWriter(
            self.connection, "declared_resources", RESOURCE_COLUMNS
        )
        self._lineage = StagingWriter(
            self.connection, "declared_lineage", LINEAGE_COLUMNS
        )
        # Repeated keys are kept here and resolved when staging is sorted.
        self._resource_batch: list[tuple] = []
        self._lineage_batch: list[tuple] = []

    def write_resource(self, resource: Resource, body: str) -> None:
        self._resource_batch.append(
            (
                resource.databuilder_id,
                resource.entity_type,
                resource.parent_databuilder_id,
                resource.title,
                body,
                digest(body),
            )
        )
        if len(self._resource_batch) >= BATCH_SIZE:
            self._flush_resources()

    def write_lineage(self, lineage: DeclaredLineage, body: str) -> None:
        self._add_edge(lineage, body, digest(body), None)

    def write_derived_lineage(
        self, lineage: DeclaredLineage, body: str, source_body: str
    ) -> None:
        """Stage an edge derived from another, such as a table read by SQL.

        ``source_body`` is the body of the original edge, whose key is stored
        in ``derived_from``. Derived edges go stale like any other edge but
        are left out of the upload-format export.
        """
        source_key = digest(source_body)
        self._add_edge(lineage, body, digest(f"{source_key}\n{body}"), source_key)

    def commit(self) -> None:
        """Merge the staged models and record the run, in one transaction."""
        try:
            self._flush_resources()
            self._flush_lineage()
            # Sorting touches only this connection's temp tables, so it runs
            # before the merge takes the catalog's write lock.
            with self._database_errors("sorting the staged models of"):
                duplicates = sort_staging(self.connection, self._resources.rows)
                dangling, unresolved = find_dangling(self.connection)
            result = SyncResult(
                duplicates=duplicates, dangling=dangling, unresolved_edges=unresolved
            )
            connection = self.connection.execution_options(**{IMMEDIATE: True})
            with self._database_errors("merging"), connection.begin():
                self.result = self._merge(connection, result)
                self.summary["catalog"] = self.result.as_dict()
                self._record_success(connection)
        finally:
            self._close()

    def abort(self) -> None:
        self._resource_batch.clear()
        self._lineage_batch.clear()
        self._close()

    def _merge(self, connection, result: SyncResult) -> SyncResult:
        merge.lock_profile(connection, **self.key)
        newer = merge.newer_sync(connection, self.key, self.run_id)
        if newer is not None:
            # Merging would bring back what the newer sync saw removed.
            raise CatalogError(
                f"run {self.run_id} of {self.key['connector']} (profile "
                f"{self.key['profile']}) started before run {newer}, which has "
                "already synced the profile, so its older results were not "
                f"merged; the catalog keeps the sync of run {newer}"
            )
        result.resources = merge.count_changes(connection, "resources", self.key)
        result.lineage = merge.count_changes(connection, "lineage", self.key)
        counts = {"resources": result.resources, "lineage": result.lineage}
        fresh = {
            table: merge.count_fresh(connection, table, self.key) for table in counts
        }
        undeclared = {
            table: merge.count_undeclared(fresh[table], table_counts)
            for table, table_counts in counts.items()
        }
        if not self.allow_mass_stale:
            # Resources first: the guard reports the first kind that trips it.
            result.stale_guard = merge.check_stale_share(
                undeclared["resources"], fresh["resources"], self.stale_threshold
            ) or merge.check_stale_share(
                undeclared["lineage"],
                fresh["lineage"],
                self.stale_threshold,
                "lineage edges",
            )
        for table, table_counts in counts.items():
            merge.upsert(connection, table, self.key, self.run_id, table_counts)

        if result.stale_guard is None:
            for table, table_counts in counts.items():
                if undeclared[table]:
                    table_counts.stale = merge.mark_stale(
                        connection, table, self.key, self.run_id
                    )
        else:
            logger.warning(
                "run %d of %s (profile %s): %s",
                self.run_id,
                self.key["connector"],
                self.key["profile"],
                result.stale_guard.as_dict()["reason"],
                # Marks the record, so the CLI can drop it where its summary
                # already prints the same warning.
                extra={"stale_guard": True},
            )
        return result

    def _record_success(self, connection) -> None:
        connection.execute(
            update(runs)
            .where(runs.c.id == self.run_id)
            .values(
                status="succeeded",
                finished_at=now(),
                resources=self.result.resources.declared,
                lineage=self.result.lineage.declared,
                summary=json.dumps(self.summary, default=str),
            )
        )

    def _add_edge(self, lineage, body, key, derived_from) -> None:
        source, target = lineage.from_identifier, lineage.to_identifier
        self._lineage_batch.append(
            (
                key,
                source.type,
                lineage_ref(source),
                target.type,
                lineage_ref(target),
                body,
                derived_from,
            )
        )
        if len(self._lineage_batch) >= BATCH_SIZE:
            self._flush_lineage()

    def _flush_resources(self) -> None:
        # The appends stay on the connector's thread. A writer thread would
        # not run them beside the connector, because sqlite3 takes the GIL
        # back for each row it binds. Encoding a batch as one JSON text, which
        # json_each() could insert without the GIL, cost three quarters of
        # the time of appending it (docs/benchmarks.md).
        with self._database_errors("staging resources of"):
            self._resources.write(self._resource_batch)
        self._resource_batch = []

    def _flush_lineage(self) -> None:
        with self._database_errors("staging lineage of"):
            self._lineage.write(self._lineage_batch)
        self._lineage_batch = []

    @contextlib.contextmanager
    def _database_errors(self, action: str) -> Iterator[None]:
        """Raise a database failure as a :class:`CatalogError` naming the run."""
        try:
            yield
        except DBAPIError as error:
            cause = str(error.orig or error).strip().splitlines()[0]
            raise CatalogError(
                f"{action} run {self.run_id} failed in the catalog "
                f"{display_location(self.catalog.location)}: {cause}; the previous "
                f"sync is unchanged, {_next_step(error)}"
            ) from error

    def _close(self) -> None:
        if not self.connection.closed:
            discard_staging(self.connection)


def _next_step(error: DBAPIError) -> str:
    """Say what to do about a failed write, by whether the data caused it."""
    if isinstance(error, DataError):
        # PostgreSQL, for one, cannot store a NUL character in text.
        return (
            "and a rerun fails the same way: a declared value cannot be stored "
            "there, so fix it in the connector (the run's validation warnings "
            "name ids with control characters)"
        )
    return "so rerun once the database is reachable"
