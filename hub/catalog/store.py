"""The catalog object a run writes through and the queries read from."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from hub.catalog.engines import (
    IMMEDIATE,
    display_location,
    hide_password,
    postgresql_engine,
    read_sqlite_tables,
    reject_directory,
    sqlite_engine,
)
from hub.catalog.records import now
from hub.catalog.schema import (
    check_hub_tables,
    check_readable,
    ensure_schema,
    lineage,
    resources,
    runs,
)
from hub.catalog.sync import DEFAULT_STALE_THRESHOLD, CatalogSync
from hub.errors import CatalogError, CatalogNotFoundError, CatalogURLError

logger = logging.getLogger(__name__)


class Catalog:
    """A catalog database, SQLite or PostgreSQL, behind one SQLAlchemy engine."""

    # What to check when the database cannot be opened.
    open_hint = "check that the database is running and the URL is right"

    def __init__(self, engine: Engine, location: str, read_only: bool = False):
        """Open the catalog, creating or migrating its schema unless ``read_only``.

        With ``read_only`` nothing is written: a database without tables
        raises :class:`CatalogNotFoundError`, and one of an older schema
        version :class:`CatalogOutdatedError`.
        """
        self.engine = engine
        self.location = location
        self.read_only = read_only
        try:
            self._prepare_schema(display_location(location))
        except DBAPIError as error:
            self.engine.dispose()
            raise CatalogURLError(
                f"cannot open the catalog {display_location(location)!r}: "
                f"{self._describe(error)}; {self.open_hint}, or pass another "
                "--catalog"
            ) from None
        except BaseException:
            self.engine.dispose()
            raise

    def _prepare_schema(self, shown_location: str) -> None:
        if self.read_only:
            with self.read() as connection:
                check_readable(connection, shown_location)
            return
        with self.write() as connection:
            ensure_schema(connection, shown_location)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """Open a write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{IMMEDIATE: True})
            with connection.begin():
                yield connection

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """Open a read transaction: one consistent snapshot on SQLite.

        On PostgreSQL each statement reads its own snapshot (READ COMMITTED),
        which is consistent per query.
        """
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def begin_run(
        self,
        connector: str,
        profile: str,
        distribution: str | None,
        version: str | None,
    ) -> int:
        """Record a run as running, committed at once so it is never lost."""
        values = {
            "connector": connector,
            "profile": profile,
            "distribution": distribution,
            "connector_version": version,
            "started_at": now(),
            "status": "running",
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        with self.write() as connection:
            result = connection.execute(insert(runs).values(**values))
            return result.inserted_primary_key[0]

    def open_sync(
        self,
        run_id: int,
        connector: str,
        profile: str,
        allow_mass_stale: bool = False,
        stale_threshold: float = DEFAULT_STALE_THRESHOLD,
    ) -> CatalogSync:
        """Open the sink that stages the run's models until it commits.

        ``stale_threshold`` is the share (0 to 1) of the profile's fresh
        resources above which the run marks nothing stale, unless
        ``allow_mass_stale`` is true.
        """
        if not 0 <= stale_threshold <= 1:
            raise CatalogError(
                f"invalid stale threshold {stale_threshold!r}: "
                "give a share between 0 and 1, such as 0.2"
            )
        return CatalogSync(
            self, run_id, connector, profile, allow_mass_stale, stale_threshold
        )

    def fail_run(self, run_id: int, error: str, summary: dict[str, Any]) -> None:
        """Record a run as failed; nothing it declared is kept."""
        with self.write() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status="failed",
                    finished_at=now(),
                    error=error,
                    summary=json.dumps(summary, default=str),
                )
            )

    def runs(self, connector: str | None = None) -> list[dict[str, Any]]:
        query = select(runs).order_by(runs.c.id)
        if connector:
            query = query.where(runs.c.connector == connector)
        return self._dicts(query)

    def resources(self, connector: str, profile: str) -> list[dict[str, Any]]:
        query = (
            select(resources)
            .where(resources.c.connector == connector, resources.c.profile == profile)
            .order_by(resources.c.databuilder_id)
        )
        return self._dicts(query)

    def lineage(self, connector: str, profile: str) -> list[dict[str, Any]]:
        query = (
            select(lineage)
            .where(lineage.c.connector == connector, lineage.c.profile == profile)
            .order_by(lineage.c.edge_key)
        )
        return self._dicts(query)

    def _dicts(self, query) -> list[dict[str, Any]]:
        with self.read() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def _describe(self, error: DBAPIError) -> str:
        text = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return hide_password(text, self.location)


class SQLiteCatalog(Catalog):
    """A catalog in one SQLite file, in WAL mode with foreign keys on."""

    open_hint = "check that the file is a hub catalog that you may write"

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        reject_directory(self.path)
        if read_only and not self.path.exists():
            raise CatalogNotFoundError(str(self.path))
        if self.path.exists():
            found = read_sqlite_tables(self.path)
            if found is not None:
                check_hub_tables(*found, str(self.path))
            # An empty file or database is no catalog yet, and a read-only
            # command must leave it as it is, so no engine touches it.
            if read_only and found is not None and not found[0]:
                raise CatalogNotFoundError(str(self.path))
        if not read_only:
            self._create_directory()
        engine = sqlite_engine(self.path, read_only=read_only)
        super().__init__(engine, str(self.path), read_only)

    def _create_directory(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CatalogURLError(
                f"cannot create the catalog directory {str(self.path.parent)!r}: "
                f"{error.strerror}; pass a writable path with --catalog"
            ) from error


class PostgreSQLCatalog(Catalog):
    """A catalog in a PostgreSQL database, reached with psycopg 3."""

    def __init__(self, url: str, read_only: bool = False):
        super().__init__(postgresql_engine(url), url, read_only)
