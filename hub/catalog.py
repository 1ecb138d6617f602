"""The local catalog: what each run of each connector profile extracted.

A run streams its models into temporary tables that only its own connection
sees, then merges them in one short transaction when it succeeds. A run that
fails, or a process that dies, therefore leaves the catalog exactly as the
previous successful sync wrote it, and concurrent runs only contend for the
lock during that final merge.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hub.errors import CatalogURLError
from hub.sdk.models import DeclaredLineage, Resource

SCHEMA_VERSION = 1

# Seconds a writer waits for another run's merge before failing.
BUSY_TIMEOUT_SECONDS = 60

# Rows held in memory before they are written to the staging tables.
BATCH_SIZE = 2000

SCHEMA_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    connector TEXT NOT NULL,
    profile TEXT NOT NULL,
    distribution TEXT,
    connector_version TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error TEXT,
    resources INTEGER NOT NULL DEFAULT 0,
    lineage INTEGER NOT NULL DEFAULT 0,
    summary TEXT
);
CREATE TABLE resources (
    connector TEXT NOT NULL,
    profile TEXT NOT NULL,
    databuilder_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    parent_databuilder_id TEXT,
    title TEXT,
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    first_run_id INTEGER NOT NULL REFERENCES runs (id),
    last_run_id INTEGER NOT NULL REFERENCES runs (id),
    stale INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connector, profile, databuilder_id)
);
CREATE TABLE lineage (
    connector TEXT NOT NULL,
    profile TEXT NOT NULL,
    edge_key TEXT NOT NULL,
    from_type TEXT NOT NULL,
    from_ref TEXT NOT NULL,
    to_type TEXT NOT NULL,
    to_ref TEXT NOT NULL,
    body TEXT NOT NULL,
    first_run_id INTEGER NOT NULL REFERENCES runs (id),
    last_run_id INTEGER NOT NULL REFERENCES runs (id),
    stale INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connector, profile, edge_key)
);
CREATE INDEX lineage_from ON lineage (from_ref);
CREATE INDEX lineage_to ON lineage (to_ref);
"""

STAGING = """
CREATE TEMP TABLE IF NOT EXISTS staged_resources (
    databuilder_id TEXT PRIMARY KEY,
    entity_type TEXT NOT NULL,
    parent_databuilder_id TEXT,
    title TEXT,
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL
);
CREATE TEMP TABLE IF NOT EXISTS staged_lineage (
    edge_key TEXT PRIMARY KEY,
    from_type TEXT NOT NULL,
    from_ref TEXT NOT NULL,
    to_type TEXT NOT NULL,
    to_ref TEXT NOT NULL,
    body TEXT NOT NULL
);
DELETE FROM staged_resources;
DELETE FROM staged_lineage;
"""


@dataclass
class SyncCounts:
    """What one successful sync changed in the catalog."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    stale: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class SyncResult:
    """Counts of a merged sync, for resources and for lineage."""

    resources: SyncCounts = field(default_factory=SyncCounts)
    lineage: SyncCounts = field(default_factory=SyncCounts)


def sqlite_path(location: str) -> Path | None:
    """Return the file a location names, or None when it is not SQLite."""
    if location.startswith("sqlite:///"):
        return Path(urllib.parse.unquote(location[len("sqlite:///") :]))
    if "://" in location:
        return None
    return Path(location)


def display_location(location: str) -> str:
    """Return a location with any password in a URL replaced by ``***``."""
    parts = urllib.parse.urlsplit(location)
    if parts.password is None:
        return location
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class SQLiteCatalog:
    """A catalog in one SQLite file, in WAL mode with foreign keys on."""

    def __init__(self, path: Path):
        self.path = path
        self.location = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
        except (OSError, sqlite3.Error) as error:
            raise CatalogURLError(
                f"cannot open the catalog {str(path)!r}: {error}; "
                "pass a writable path with --catalog"
            ) from error
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def close(self) -> None:
        self.connection.close()

    def _migrate(self) -> None:
        version = self.connection.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise CatalogURLError(
                f"catalog {self.location} has schema version {version}, newer than "
                f"this hub's {SCHEMA_VERSION}; upgrade the hub"
            )
        with self.transaction():
            if version == 0:
                self._create_schema()
            self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _create_schema(self) -> None:
        for statement in SCHEMA_V1.split(";"):
            if statement.strip():
                self.connection.execute(statement)

    def transaction(self):
        return _Transaction(self.connection)

    def begin_run(
        self,
        connector: str,
        profile: str,
        distribution: str | None,
        version: str | None,
    ) -> int:
        """Record a run as running, committed at once so it is never lost."""
        cursor = self.connection.execute(
            "INSERT INTO runs (connector, profile, distribution, connector_version,"
            " started_at, status) VALUES (?, ?, ?, ?, ?, 'running')",
            (connector, profile, distribution, version, now()),
        )
        return cursor.lastrowid

    def open_sync(self, run_id: int, connector: str, profile: str) -> CatalogSync:
        return CatalogSync(self, run_id, connector, profile)

    def fail_run(self, run_id: int, error: str, summary: dict[str, Any]) -> None:
        """Record a run as failed; nothing it declared is kept."""
        self.connection.execute(
            "UPDATE runs SET status = 'failed', finished_at = ?, error = ?,"
            " summary = ? WHERE id = ?",
            (now(), error, json.dumps(summary), run_id),
        )

    def runs(self, connector: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs"
        parameters: tuple = ()
        if connector:
            query += " WHERE connector = ?"
            parameters = (connector,)
        return self._dicts(query + " ORDER BY id", parameters)

    def resources(self, connector: str, profile: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT * FROM resources WHERE connector = ? AND profile = ?"
            " ORDER BY databuilder_id",
            (connector, profile),
        )

    def lineage(self, connector: str, profile: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT * FROM lineage WHERE connector = ? AND profile = ?"
            " ORDER BY edge_key",
            (connector, profile),
        )

    def _dicts(self, query: str, parameters: tuple) -> list[dict[str, Any]]:
        cursor = self.connection.execute(query, parameters)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, error_type, error, traceback):
        if error_type is None:
            self.connection.execute("COMMIT")
        else:
            self.connection.execute("ROLLBACK")
        return False


class CatalogSync:
    """The catalog's sink for one run: stages models, merges them on commit."""

    def __init__(
        self, catalog: SQLiteCatalog, run_id: int, connector: str, profile: str
    ):
        self.catalog = catalog
        self.run_id = run_id
        self.key = (connector, profile)
        self.result: SyncResult | None = None
        self.summary: dict[str, Any] = {}
        self._resources: list[tuple] = []
        self._lineage: list[tuple] = []
        self.catalog.connection.executescript(STAGING)

    def write_resource(self, resource: Resource, body: str) -> None:
        self._resources.append(
            (
                resource.databuilder_id,
                resource.entity_type,
                resource.parent_databuilder_id,
                resource.title,
                body,
                _digest(body),
            )
        )
        if len(self._resources) >= BATCH_SIZE:
            self._flush()

    def write_lineage(self, lineage: DeclaredLineage, body: str) -> None:
        source, target = lineage.from_identifier, lineage.to_identifier
        self._lineage.append(
            (
                _digest(body),
                source.type,
                lineage_ref(source),
                target.type,
                lineage_ref(target),
                body,
            )
        )
        if len(self._lineage) >= BATCH_SIZE:
            self._flush()

    def commit(self) -> None:
        """Merge the staged models and record the run, in one transaction."""
        self._flush()
        with self.catalog.transaction() as connection:
            resources = _merge(connection, "resources", self.key, self.run_id)
            lineage = _merge(connection, "lineage", self.key, self.run_id)
            self.result = SyncResult(resources, lineage)
            self.summary["catalog"] = {
                "resources": resources.as_dict(),
                "lineage": lineage.as_dict(),
            }
            connection.execute(
                "UPDATE runs SET status = 'succeeded', finished_at = ?,"
                " resources = ?, lineage = ?, summary = ? WHERE id = ?",
                (
                    now(),
                    resources.added + resources.changed + resources.unchanged,
                    lineage.added + lineage.changed + lineage.unchanged,
                    json.dumps(self.summary),
                    self.run_id,
                ),
            )
        self._drop_staging()

    def abort(self) -> None:
        self._resources.clear()
        self._lineage.clear()
        self._drop_staging()

    def _flush(self) -> None:
        connection = self.catalog.connection
        if self._resources:
            connection.executemany(
                "INSERT OR REPLACE INTO staged_resources VALUES (?, ?, ?, ?, ?, ?)",
                self._resources,
            )
            self._resources.clear()
        if self._lineage:
            connection.executemany(
                "INSERT OR REPLACE INTO staged_lineage VALUES (?, ?, ?, ?, ?, ?)",
                self._lineage,
            )
            self._lineage.clear()

    def _drop_staging(self) -> None:
        connection = self.catalog.connection
        connection.execute("DELETE FROM staged_resources")
        connection.execute("DELETE FROM staged_lineage")


# Per table: its key column, the staged columns copied over, and the column
# that tells whether stored content changed.
_MERGE_COLUMNS = {
    "resources": (
        "databuilder_id",
        ("entity_type", "parent_databuilder_id", "title", "body", "body_hash"),
        "body_hash",
    ),
    "lineage": (
        "edge_key",
        ("from_type", "from_ref", "to_type", "to_ref", "body"),
        "body",
    ),
}


def _merge(connection, table: str, key: tuple[str, str], run_id: int) -> SyncCounts:
    id_column, columns, content = _MERGE_COLUMNS[table]
    counts = _count_changes(connection, table, key, id_column, content)

    names = ", ".join(columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns)
    connection.execute(
        f"INSERT INTO {table} (connector, profile, {id_column}, {names},"
        f" first_run_id, last_run_id, stale)"
        f" SELECT ?, ?, {id_column}, {names}, ?, ?, 0 FROM staged_{table} WHERE true"
        f" ON CONFLICT (connector, profile, {id_column}) DO UPDATE SET {updates},"
        " last_run_id = excluded.last_run_id, stale = 0",
        (*key, run_id, run_id),
    )
    counts.stale = connection.execute(
        f"UPDATE {table} SET stale = 1 WHERE connector = ? AND profile = ?"
        " AND last_run_id <> ? AND stale = 0",
        (*key, run_id),
    ).rowcount
    return counts


def _count_changes(connection, table, key, id_column, content) -> SyncCounts:
    row = connection.execute(
        f"SELECT COUNT(*) - COUNT(t.{id_column}),"
        f" COUNT(t.{id_column}) - SUM(t.{content} IS s.{content})"
        f" FROM staged_{table} s LEFT JOIN {table} t ON t.connector = ?"
        f" AND t.profile = ? AND t.{id_column} = s.{id_column}",
        key,
    ).fetchone()
    total = connection.execute(f"SELECT COUNT(*) FROM staged_{table}").fetchone()[0]
    added, changed = row[0] or 0, row[1] or 0
    # COUNT(t.id) - SUM(equal) counts matched rows whose content differs, but
    # SUM over no rows is NULL, handled by the ``or 0`` above.
    return SyncCounts(added=added, changed=changed, unchanged=total - added - changed)


def lineage_ref(identifier) -> str:
    """Return the text a lineage end is looked up by."""
    if identifier.type == "internal_resource":
        return identifier.databuilder_id
    if identifier.type == "tables_from_query":
        return "sql:" + _digest(identifier.sql)[:16]
    parts = [
        identifier.cluster,
        identifier.database,
        identifier.schema,
        identifier.table,
    ]
    if identifier.type == "external_column":
        parts.append(identifier.column)
    return ".".join(part for part in parts if part)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
