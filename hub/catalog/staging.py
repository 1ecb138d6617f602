"""Staging tables: where a run's models wait, unseen by others, until it merges.

Both backends use temporary tables, which belong to one connection: SQLite
keeps them in the connection's private temp database, and PostgreSQL drops
them when the session ends (``ON COMMIT PRESERVE ROWS`` keeps rows across the
run's many short transactions). A process that dies therefore leaves nothing
behind to clean up.

While the run streams, every declaration is appended to ``declared_resources``
or ``declared_lineage`` without an index, because a key index grown one
random key at a time rewrites a page per row once it outgrows the page cache.
:func:`sort_staging` then copies the last declaration of each key into
``staged_resources`` and ``staged_lineage`` in one sort. Those tables are
keyed by the catalog key, and on SQLite stored in key order (``WITHOUT
ROWID``), so the merge reads them, and probes the catalog, in key order.
"""

from __future__ import annotations

from sqlalchemy import Connection

from hub.catalog.engines import small_sort_cache
from hub.catalog.records import MAX_EXAMPLES, Examples

RESOURCE_COLUMNS = (
    "databuilder_id",
    "entity_type",
    "parent_databuilder_id",
    "title",
    "body",
    "body_hash",
)
LINEAGE_COLUMNS = (
    "edge_key",
    "from_type",
    "from_ref",
    "to_type",
    "to_ref",
    "body",
    "derived_from",
)

_RESOURCE_TYPES = (
    "entity_type TEXT NOT NULL, parent_databuilder_id TEXT, title TEXT,"
    " body TEXT NOT NULL, body_hash TEXT NOT NULL"
)
_LINEAGE_TYPES = (
    "from_type TEXT NOT NULL, from_ref TEXT NOT NULL, to_type TEXT NOT NULL,"
    " to_ref TEXT NOT NULL, body TEXT NOT NULL, derived_from TEXT"
)

# Per staged table: its declaration log, key column and column definitions.
_STAGED = {
    "staged_resources": ("declared_resources", "databuilder_id", _RESOURCE_TYPES),
    "staged_lineage": ("declared_lineage", "edge_key", _LINEAGE_TYPES),
}

# The declaration order of logged rows: SQLite's rowid, or an identity column.
_SEQUENCE = {
    "sqlite": "seq INTEGER PRIMARY KEY",
    "postgresql": "seq BIGINT GENERATED ALWAYS AS IDENTITY",
}

# The lineage source of the staged copy: each declared edge with the staged
# resources its two ends name, if any. A LEFT JOIN on the key costs SQLite
# one seek per end, less than a correlated NOT EXISTS subquery.
_LINEAGE_SOURCE = (
    "declared_lineage d"
    " LEFT JOIN staged_resources f ON f.databuilder_id = d.from_ref"
    " LEFT JOIN staged_resources t ON t.databuilder_id = d.to_ref"
)

# True for an edge with an internal end that names no staged resource.
_UNRESOLVED = (
    "(d.from_type = 'internal_resource' AND f.databuilder_id IS NULL)"
    " OR (d.to_type = 'internal_resource' AND t.databuilder_id IS NULL)"
)


def create_staging(connection: Connection) -> None:
    """Create this connection's empty staging tables."""
    postgresql = _is_postgresql(connection)
    suffix = " ON COMMIT PRESERVE ROWS" if postgresql else ""
    # A clustered key keeps SQLite's staged rows in key order.
    clustered = "" if postgresql else " WITHOUT ROWID"
    sequence = _SEQUENCE[connection.dialect.name]
    with connection.begin():
        for staged, (declared, key, types) in _STAGED.items():
            extra = (
                ", unresolved BOOLEAN NOT NULL" if staged == "staged_lineage" else ""
            )
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {declared}"
                f" ({sequence}, {key} TEXT NOT NULL, {types}){suffix}"
            )
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged}"
                f" ({key} TEXT PRIMARY KEY, {types}{extra}){clustered}{suffix}"
            )
            connection.exec_driver_sql(f"DELETE FROM {declared}")
            connection.exec_driver_sql(f"DELETE FROM {staged}")


def sort_staging(connection: Connection, declared_resources: int) -> Examples:
    """Stage the last declaration of each key, and flag unresolved edges.

    ``declared_resources`` is the number of resource declarations the run
    logged. Returns the resource ids declared more than once, counting each
    declaration that replaced an earlier one.
    """
    with connection.begin(), small_sort_cache(connection):
        _copy_last(connection, "staged_resources", RESOURCE_COLUMNS)
        _copy_last(
            connection,
            "staged_lineage",
            LINEAGE_COLUMNS,
            source=_LINEAGE_SOURCE,
            unresolved=_UNRESOLVED,
        )
        return _find_duplicates(connection, declared_resources)


def _copy_last(
    connection: Connection,
    staged: str,
    columns: tuple[str, ...],
    source: str | None = None,
    unresolved: str | None = None,
) -> None:
    declared, key, _ = _STAGED[staged]
    source = source or f"{declared} d"
    inserted = ", ".join(columns)
    selected = ", ".join(f"d.{name}" for name in columns)
    if unresolved is not None:
        inserted += ", unresolved"
        selected += f", {unresolved}"
    if _is_postgresql(connection):
        connection.exec_driver_sql(
            f"INSERT INTO {staged} ({inserted}) SELECT DISTINCT ON (d.{key})"
            f" {selected} FROM {source} ORDER BY d.{key}, d.seq DESC"
        )
        return
    # Sorted by key and then declaration order, a repeated key arrives last
    # in its latest declaration, which replaces the ones before it. The rows
    # arrive in key order, so the insert appends to the table's last page.
    connection.exec_driver_sql(
        f"INSERT OR REPLACE INTO {staged} ({inserted})"
        f" SELECT {selected} FROM {source} ORDER BY d.{key}, d.seq"
    )


def _find_duplicates(connection: Connection, declared: int) -> Examples:
    staged = connection.exec_driver_sql(
        "SELECT COUNT(*) FROM staged_resources"
    ).scalar_one()
    duplicates = Examples(count=declared - staged)
    if duplicates.count:
        repeated = connection.exec_driver_sql(
            "SELECT databuilder_id FROM declared_resources GROUP BY databuilder_id"
            f" HAVING COUNT(*) > 1 ORDER BY databuilder_id LIMIT {MAX_EXAMPLES}"
        )
        duplicates.examples = [identifier for (identifier,) in repeated]
    return duplicates


def find_dangling(connection: Connection) -> tuple[Examples, int]:
    """Return the internal lineage ends that name no staged resource.

    Returns the dangling ends (distinct ids, with examples) and the number of
    staged edges flagged unresolved.
    """
    dangling = Examples()
    with connection.begin():
        flagged = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM staged_lineage WHERE unresolved"
        ).scalar_one()
        if not flagged:
            return dangling, 0
        ends = connection.exec_driver_sql(
            "SELECT DISTINCT ref FROM ("
            " SELECT from_ref AS ref FROM staged_lineage"
            " WHERE unresolved AND from_type = 'internal_resource'"
            " UNION ALL SELECT to_ref FROM staged_lineage"
            " WHERE unresolved AND to_type = 'internal_resource') ends"
            " WHERE NOT EXISTS (SELECT 1 FROM staged_resources s"
            " WHERE s.databuilder_id = ends.ref) ORDER BY ref"
        )
        for (ref,) in ends:
            dangling.add(ref)
    return dangling, flagged


def discard_staging(connection: Connection) -> None:
    """Close the run's connection, and with it the staging tables.

    Closing is faster than ``DROP TABLE`` for large staging: SQLite deletes
    the connection's temp file, and PostgreSQL drops a session's temporary
    tables when it ends. The pool opens a fresh connection for later work.
    """
    connection.invalidate()
    connection.close()


class StagingWriter:
    """Appends batches of rows to one declaration log, in declaration order."""

    def __init__(self, connection: Connection, table: str, columns: tuple[str, ...]):
        self.connection = connection
        self.rows = 0
        marker = "%s" if _is_postgresql(connection) else "?"
        self._insert = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
            f" ({', '.join(marker for _ in columns)})"
        )

    def write(self, rows: list[tuple]) -> None:
        if rows:
            with self.connection.begin():
                self.connection.exec_driver_sql(self._insert, rows)
            self.rows += len(rows)


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"
