"""The merge: one short transaction that turns a run's staging into its sync.

Unchanged rows are not written at all: the upsert updates only rows whose
content differs, and a fresh row needs no "last seen" mark because a fresh
row is, by definition, one the latest successful sync of its profile
declared. An unchanged sync therefore costs lookups, not writes.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from hub.catalog.records import Examples, StaleGuard, SyncCounts
from hub.catalog.staging import LINEAGE_COLUMNS, RESOURCE_COLUMNS

# Per table: its staging table, key column, copied columns and the column
# whose difference means the stored content changed.
TABLES = {
    "resources": ("staged_resources", "databuilder_id", RESOURCE_COLUMNS, "body_hash"),
    "lineage": (
        "staged_lineage",
        "edge_key",
        (*LINEAGE_COLUMNS, "unresolved"),
        "unresolved",
    ),
}


def lock_profile(connection: Connection, connector: str, profile: str) -> None:
    """Serialise merges of one profile on PostgreSQL; SQLite has one writer."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"{connector}\n{profile}"},
        )


def resolve_lineage(connection: Connection) -> tuple[Examples, int]:
    """Flag staged edges with an undeclared internal end; return the dangling ids.

    Returns the dangling ends (distinct ids, with examples) and the number of
    edges flagged unresolved.
    """
    missing = (
        "{end}_type = 'internal_resource' AND NOT EXISTS (SELECT 1 FROM"
        " staged_resources s WHERE s.databuilder_id = staged_lineage.{end}_ref)"
    )
    condition = f"({missing.format(end='from')}) OR ({missing.format(end='to')})"
    flagged = connection.exec_driver_sql(
        f"UPDATE staged_lineage SET unresolved = TRUE WHERE {condition}"
    ).rowcount

    dangling = Examples()
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


def count_changes(connection: Connection, table: str, key: dict) -> SyncCounts:
    staged, id_column, _, content = TABLES[table]
    row = connection.execute(
        text(
            f"SELECT COUNT(*), COUNT(t.{id_column}),"
            f" SUM(CASE WHEN t.{content} <> s.{content} THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN t.stale THEN 1 ELSE 0 END)"
            f" FROM {staged} s LEFT JOIN {table} t ON t.connector = :connector"
            f" AND t.profile = :profile AND t.{id_column} = s.{id_column}"
        ),
        key,
    ).one()
    total, matched = row[0], row[1]
    changed, restored = row[2] or 0, row[3] or 0
    return SyncCounts(
        added=total - matched,
        changed=changed,
        unchanged=matched - changed,
        restored=restored,
    )


def check_stale_share(
    connection: Connection, key: dict, threshold: float
) -> StaleGuard | None:
    """Return a guard when staling would pass ``threshold`` of fresh resources."""
    fresh = connection.execute(
        text(
            "SELECT COUNT(*) FROM resources WHERE connector = :connector"
            " AND profile = :profile AND NOT stale"
        ),
        key,
    ).scalar_one()
    would_stale = connection.execute(
        text(f"SELECT COUNT(*) FROM resources t WHERE {_undeclared('resources')}"),
        key,
    ).scalar_one()
    guard = StaleGuard(would_stale, fresh, threshold)
    return guard if would_stale and guard.share > threshold else None


def upsert(connection: Connection, table: str, key: dict, run_id: int) -> None:
    """Insert new rows, rewrite changed ones and make declared stale rows fresh."""
    staged, id_column, columns, content = TABLES[table]
    parameters = {**key, "run_id": run_id}
    names = ", ".join(columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns[1:])
    connection.execute(
        text(
            f"INSERT INTO {table} (connector, profile, {names},"
            " first_run_id, changed_run_id, stale)"
            f" SELECT :connector, :profile, {names}, :run_id, :run_id, FALSE"
            f" FROM {staged} WHERE TRUE ORDER BY {id_column}"
            f" ON CONFLICT (connector, profile, {id_column}) DO UPDATE SET {updates},"
            " changed_run_id = excluded.changed_run_id,"
            " stale = FALSE, stale_run_id = NULL"
            f" WHERE {table}.{content} <> excluded.{content}"
        ),
        parameters,
    )
    # Stale rows declared again with unchanged content skipped the update.
    connection.execute(
        text(
            f"UPDATE {table} SET stale = FALSE, stale_run_id = NULL"
            " WHERE connector = :connector AND profile = :profile AND stale"
            f" AND {id_column} IN (SELECT {id_column} FROM {staged})"
        ),
        parameters,
    )


def mark_stale(connection: Connection, table: str, key: dict, run_id: int) -> int:
    return connection.execute(
        text(
            f"UPDATE {table} SET stale = TRUE, stale_run_id = :run_id"
            f" WHERE {_undeclared(table, alias=table)}"
        ),
        {**key, "run_id": run_id},
    ).rowcount


def _undeclared(table: str, alias: str = "t") -> str:
    staged, id_column, _, _ = TABLES[table]
    return (
        "connector = :connector AND profile = :profile AND NOT stale"
        f" AND NOT EXISTS (SELECT 1 FROM {staged} s"
        f" WHERE s.{id_column} = {alias}.{id_column})"
    )
