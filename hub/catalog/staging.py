"""Staging tables: where a run's models wait, unseen by others, until it merges.

Both backends use temporary tables, which belong to one connection: SQLite
keeps them in the connection's private temp database, and PostgreSQL drops
them when the session ends (``ON COMMIT PRESERVE ROWS`` keeps rows across the
run's many short transactions). A process that dies therefore leaves nothing
behind to clean up.

Rows are appended without an index while the run streams, because a key
index grown one random key at a time rewrites a page per row once it
outgrows the page cache. :func:`index_staging` sorts the keys once at the
end, then removes earlier declarations of a repeated key.
"""

from __future__ import annotations

from sqlalchemy import Connection

from hub.catalog.records import Examples

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

_TABLES = {
    "staged_resources": (
        "databuilder_id TEXT NOT NULL, entity_type TEXT NOT NULL,"
        " parent_databuilder_id TEXT, title TEXT, body TEXT NOT NULL,"
        " body_hash TEXT NOT NULL"
    ),
    "staged_lineage": (
        "edge_key TEXT NOT NULL, from_type TEXT NOT NULL,"
        " from_ref TEXT NOT NULL, to_type TEXT NOT NULL, to_ref TEXT NOT NULL,"
        " body TEXT NOT NULL, derived_from TEXT,"
        " unresolved BOOLEAN NOT NULL DEFAULT FALSE"
    ),
}
_KEYS = {"staged_resources": "databuilder_id", "staged_lineage": "edge_key"}

# The declaration order of staged rows: SQLite's rowid, or an identity column.
_SEQUENCE = {
    "sqlite": "seq INTEGER PRIMARY KEY",
    "postgresql": "seq BIGINT GENERATED ALWAYS AS IDENTITY",
}


def create_staging(connection: Connection) -> None:
    """Create this connection's empty staging tables."""
    suffix = " ON COMMIT PRESERVE ROWS" if _is_postgresql(connection) else ""
    sequence = _SEQUENCE[connection.dialect.name]
    with connection.begin():
        for name, columns in _TABLES.items():
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {name}"
                f" ({sequence}, {columns}){suffix}"
            )
            connection.exec_driver_sql(f"DELETE FROM {name}")


def index_staging(connection: Connection, duplicates: Examples) -> None:
    """Index the staged keys and keep only the last declaration of each.

    Adds every key declared more than once to ``duplicates``, counting each
    declaration that replaced an earlier one.
    """
    with connection.begin():
        for table, key in _KEYS.items():
            connection.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {table}_key ON {table} ({key}, seq)"
            )
        repeated = connection.exec_driver_sql(
            "SELECT databuilder_id, COUNT(*) - 1 FROM staged_resources"
            " GROUP BY databuilder_id HAVING COUNT(*) > 1 ORDER BY databuilder_id"
        )
        for identifier, extra in repeated:
            for _ in range(extra):
                duplicates.add(identifier)
        for table, key in _KEYS.items():
            connection.exec_driver_sql(
                f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {table} later"
                f" WHERE later.{key} = {table}.{key} AND later.seq > {table}.seq)"
            )


def discard_staging(connection: Connection) -> None:
    """Close the run's connection, and with it the staging tables.

    Closing is faster than ``DROP TABLE`` for large staging: SQLite deletes
    the connection's temp file, and PostgreSQL drops a session's temporary
    tables when it ends. The pool opens a fresh connection for later work.
    """
    connection.invalidate()
    connection.close()


class StagingWriter:
    """Appends batches of rows to one staging table, in declaration order."""

    def __init__(self, connection: Connection, table: str, columns: tuple[str, ...]):
        self.connection = connection
        marker = "%s" if _is_postgresql(connection) else "?"
        self._insert = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
            f" ({', '.join(marker for _ in columns)})"
        )

    def write(self, rows: list[tuple]) -> None:
        if rows:
            with self.connection.begin():
                self.connection.exec_driver_sql(self._insert, rows)


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"
