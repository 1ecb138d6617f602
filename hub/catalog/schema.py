"""The catalog's tables, their version and the migration from version 1.

Version 1 (SQLite only) stored ``last_run_id``, the last run that declared a
row, so every sync rewrote every row. Version 2 renames it ``changed_run_id``
and only writes it when a row's content changes: a fresh row is by definition
declared by the latest successful sync of its profile. It adds
``stale_run_id``, the lineage ``unresolved`` flag and ``derived_from`` key,
the run's process id and host, and a ``schema_version`` table on both
backends (SQLite also keeps ``PRAGMA user_version`` in step).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    false,
    inspect,
    text,
)

from hub.errors import CatalogNotFoundError, CatalogOutdatedError, CatalogURLError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2

# Key of the PostgreSQL advisory lock that serialises schema creation.
SCHEMA_LOCK_KEY = 7_402_311

# The tables of a version 1 catalog, which recorded its version only in the
# SQLite header (PRAGMA user_version).
VERSION_1_TABLES = frozenset({"runs", "resources", "lineage"})

# Tables named in the message that rejects a database of another program.
MAX_NAMED_TABLES = 10

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata, Column("version", Integer, nullable=False)
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", Text, nullable=False),
    Column("profile", Text, nullable=False),
    Column("distribution", Text),
    Column("connector_version", Text),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text),
    Column("status", Text, nullable=False),
    Column("error", Text),
    Column("resources", Integer, nullable=False, server_default="0"),
    Column("lineage", Integer, nullable=False, server_default="0"),
    Column("summary", Text),
    Column("pid", Integer),
    Column("host", Text),
    CheckConstraint("status IN ('running', 'succeeded', 'failed')"),
)


def _run_reference(name: str, nullable: bool = False) -> Column:
    return Column(name, Integer, ForeignKey("runs.id"), nullable=nullable)


resources = Table(
    "resources",
    metadata,
    Column("connector", Text, primary_key=True),
    Column("profile", Text, primary_key=True),
    Column("databuilder_id", Text, primary_key=True),
    Column("entity_type", Text, nullable=False),
    Column("parent_databuilder_id", Text),
    Column("title", Text),
    Column("body", Text, nullable=False),
    Column("body_hash", Text, nullable=False),
    _run_reference("first_run_id"),
    _run_reference("changed_run_id"),
    Column("stale", Boolean, nullable=False, server_default=false()),
    _run_reference("stale_run_id", nullable=True),
    Index("resources_id", "databuilder_id"),
)

lineage = Table(
    "lineage",
    metadata,
    Column("connector", Text, primary_key=True),
    Column("profile", Text, primary_key=True),
    Column("edge_key", Text, primary_key=True),
    Column("from_type", Text, nullable=False),
    Column("from_ref", Text, nullable=False),
    Column("to_type", Text, nullable=False),
    Column("to_ref", Text, nullable=False),
    Column("body", Text, nullable=False),
    _run_reference("first_run_id"),
    _run_reference("changed_run_id"),
    Column("stale", Boolean, nullable=False, server_default=false()),
    _run_reference("stale_run_id", nullable=True),
    Column("unresolved", Boolean, nullable=False, server_default=false()),
    Column("derived_from", Text),
    Index("lineage_from", "from_ref"),
    Index("lineage_to", "to_ref"),
)

# Version 1 -> 2 on SQLite, run in one transaction. SQLite adds a NOT NULL
# column only with a constant default, which these have.
MIGRATE_V1_TO_V2 = (
    "ALTER TABLE runs ADD COLUMN pid INTEGER",
    "ALTER TABLE runs ADD COLUMN host TEXT",
    "ALTER TABLE resources RENAME COLUMN last_run_id TO changed_run_id",
    "ALTER TABLE resources ADD COLUMN stale_run_id INTEGER REFERENCES runs (id)",
    "ALTER TABLE lineage RENAME COLUMN last_run_id TO changed_run_id",
    "ALTER TABLE lineage ADD COLUMN stale_run_id INTEGER REFERENCES runs (id)",
    "ALTER TABLE lineage ADD COLUMN unresolved BOOLEAN NOT NULL DEFAULT 0",
    "ALTER TABLE lineage ADD COLUMN derived_from TEXT",
    "CREATE INDEX resources_id ON resources (databuilder_id)",
    # A stale row was last declared by its changed_run_id (the old
    # last_run_id), so the next successful run of its profile staled it.
    *(
        f"UPDATE {table} SET stale_run_id = (SELECT MIN(r.id) FROM runs r"
        f" WHERE r.connector = {table}.connector AND r.profile = {table}.profile"
        f" AND r.status = 'succeeded' AND r.id > {table}.changed_run_id)"
        " WHERE stale"
        for table in ("resources", "lineage")
    ),
)


def check_hub_tables(tables: Collection[str], user_version: int, location: str):
    """Raise :class:`CatalogURLError` for a database with another program's tables.

    A database is a hub catalog when it has a ``schema_version`` table, or
    the version 1 tables with ``user_version`` 1 (SQLite's header field). An
    empty database passes too, because the hub creates its tables there. Any other
    database is rejected before anything is written to it.
    """
    if not tables or "schema_version" in tables:
        return
    if user_version == 1 and VERSION_1_TABLES <= set(tables):
        return
    names = sorted(tables)
    listed = ", ".join(names[:MAX_NAMED_TABLES])
    if len(names) > MAX_NAMED_TABLES:
        listed += f" and {len(names) - MAX_NAMED_TABLES} more"
    raise CatalogURLError(
        f"{location} is not a hub catalog (it has tables {listed}); "
        "choose another --catalog"
    )


def ensure_schema(connection: Connection, location: str) -> None:
    """Create the schema in an empty catalog, or migrate an older one in place.

    Runs inside one write transaction, so two processes opening a new
    catalog at once create it once. A database with tables of another
    program is rejected before any write.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
        )
    version = _stored_version(connection, location)
    if version == SCHEMA_VERSION:
        return
    _reject_newer(version, location)
    if version == 0:
        metadata.create_all(connection)
    else:
        logger.info("migrating catalog %s from schema version 1 to 2", location)
        for statement in MIGRATE_V1_TO_V2:
            connection.exec_driver_sql(statement)
        schema_version.create(connection)
    _store_version(connection)


def check_readable(connection: Connection, location: str) -> None:
    """Raise unless the database contains a catalog of this hub's schema version.

    Reads only, for the commands that must not create or migrate a catalog:
    an empty database raises :class:`CatalogNotFoundError`, and a catalog of
    an older version raises :class:`CatalogOutdatedError`.
    """
    version = _stored_version(connection, location)
    if version == 0:
        raise CatalogNotFoundError(location)
    _reject_newer(version, location)
    if version < SCHEMA_VERSION:
        raise CatalogOutdatedError(
            f"catalog {location} has schema version {version}, older than this "
            f"hub's {SCHEMA_VERSION}, and a query does not change it; upgrade it "
            "with `hub catalog migrate`, given the same --catalog if any, or "
            "with any `hub run` into it, then retry",
            version,
        )


def _reject_newer(version: int, location: str) -> None:
    if version > SCHEMA_VERSION:
        raise CatalogURLError(
            f"catalog {location} has schema version {version}, newer than this "
            f"hub's {SCHEMA_VERSION}; upgrade the hub or pass another --catalog"
        )


def _stored_version(connection: Connection, location: str) -> int:
    tables = inspect(connection).get_table_names()
    user_version = 0
    if connection.dialect.name == "sqlite":
        user_version = connection.exec_driver_sql("PRAGMA user_version").scalar()
    check_hub_tables(tables, user_version, location)
    if "schema_version" in tables:
        stored = connection.execute(schema_version.select()).scalar()
        return stored or 0
    # Past the check, tables without a schema_version table are version 1's.
    return 1 if tables else 0


def _store_version(connection: Connection) -> None:
    connection.execute(schema_version.delete())
    connection.execute(schema_version.insert(), {"version": SCHEMA_VERSION})
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
