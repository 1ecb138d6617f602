"""The merge: one short transaction that turns a run's staging into its sync.

Unchanged rows are not written at all: the upsert updates only rows whose
content differs, and a fresh row needs no "last seen" mark because a fresh
row is, by definition, one the latest successful sync of its profile
declared. An unchanged sync therefore costs lookups, not writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection, func, select, text

from hub.catalog.engines import small_sort_cache
from hub.catalog.records import StaleGuard, SyncCounts
from hub.catalog.schema import metadata, runs
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

# Rows a SQLite merge must add to a table before it rebuilds the table's
# secondary indexes instead of inserting into them. An estimate: below it,
# the index pages an insert touches mostly stay in the page cache.
BULK_LOAD_MIN_ROWS = 100_000


def lock_profile(connection: Connection, connector: str, profile: str) -> None:
    """Serialise merges of one profile on PostgreSQL; SQLite has one writer."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"{connector}\n{profile}"},
        )


def newer_sync(connection: Connection, key: dict, run_id: int) -> int | None:
    """Return a run of the profile that started after ``run_id`` and succeeded.

    Run ids grow in the order runs start, on both backends, so such a run
    declared what the source held later than ``run_id`` did.
    """
    return connection.execute(
        select(func.min(runs.c.id)).where(
            runs.c.connector == key["connector"],
            runs.c.profile == key["profile"],
            runs.c.status == "succeeded",
            runs.c.id > run_id,
        )
    ).scalar()


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


def count_fresh(connection: Connection, table: str, key: dict) -> int:
    """Return how many of the profile's rows in ``table`` are fresh."""
    return connection.execute(
        text(
            f"SELECT COUNT(*) FROM {table} WHERE connector = :connector"
            " AND profile = :profile AND NOT stale"
        ),
        key,
    ).scalar_one()


def count_undeclared(fresh: int, counts: SyncCounts) -> int:
    """Return how many of ``fresh`` rows the run did not declare.

    Staged keys are unique, so every declared key that matched a fresh row
    (matched minus restored) accounts for exactly one of them.
    """
    return fresh - (counts.changed + counts.unchanged - counts.restored)


def check_stale_share(
    would_stale: int, fresh: int, threshold: float, kind: str = "resources"
) -> StaleGuard | None:
    """Return a guard when staling would pass ``threshold`` of the fresh rows."""
    guard = StaleGuard(would_stale, fresh, threshold, kind)
    return guard if would_stale and guard.share > threshold else None


def upsert(
    connection: Connection, table: str, key: dict, run_id: int, counts: SyncCounts
) -> None:
    """Insert new rows, rewrite changed ones and make declared stale rows fresh.

    ``counts`` are the run's counts from :func:`count_changes`. Each statement
    runs only when they show that it has rows to change.
    """
    staged, id_column, columns, content = TABLES[table]
    parameters = {**key, "run_id": run_id}
    names = ", ".join(columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns[1:])
    if counts.added or counts.changed:
        with _bulk_load(connection, table, counts.added):
            connection.execute(
                text(
                    f"INSERT INTO {table} (connector, profile, {names},"
                    " first_run_id, changed_run_id, stale)"
                    f" SELECT :connector, :profile, {names}, :run_id, :run_id, FALSE"
                    f" FROM {staged} WHERE TRUE ORDER BY {id_column}"
                    f" ON CONFLICT (connector, profile, {id_column}) DO UPDATE"
                    f" SET {updates}, changed_run_id = excluded.changed_run_id,"
                    " stale = FALSE, stale_run_id = NULL"
                    f" WHERE {table}.{content} <> excluded.{content}"
                ),
                parameters,
            )
    if counts.restored:
        # Stale rows declared again with unchanged content skipped the update.
        connection.execute(
            text(
                f"UPDATE {table} SET stale = FALSE, stale_run_id = NULL"
                " WHERE connector = :connector AND profile = :profile AND stale"
                f" AND {id_column} IN (SELECT {id_column} FROM {staged})"
            ),
            parameters,
        )


@contextlib.contextmanager
def _bulk_load(connection: Connection, table: str, added: int) -> Iterator[None]:
    """Drop ``table``'s secondary indexes for a large insert, then rebuild them.

    Rows arrive in key order, which an index on another column receives as
    random keys: once that index outgrows the page cache, each row costs a
    page read and write. Rebuilding sorts once instead, and pays off when the
    insert adds more rows than the table contains. On PostgreSQL, ``DROP
    INDEX`` would block every reader of the table until the merge commits, so
    only SQLite, whose readers keep their WAL snapshot, does this.
    """
    indexes = []
    if connection.dialect.name == "sqlite" and added >= BULK_LOAD_MIN_ROWS:
        existing = connection.execute(
            select(func.count()).select_from(metadata.tables[table])
        ).scalar_one()
        if added > existing:
            indexes = sorted(metadata.tables[table].indexes, key=lambda i: i.name)
    for index in indexes:
        index.drop(connection)
    yield
    if not indexes:
        return

    # A failed insert skips this, and the rollback restores the indexes.
    with small_sort_cache(connection):
        for index in indexes:
            index.create(connection)


def mark_stale(connection: Connection, table: str, key: dict, run_id: int) -> int:
    staged, id_column, _, _ = TABLES[table]
    return connection.execute(
        text(
            f"UPDATE {table} SET stale = TRUE, stale_run_id = :run_id"
            " WHERE connector = :connector AND profile = :profile AND NOT stale"
            f" AND NOT EXISTS (SELECT 1 FROM {staged} s"
            f" WHERE s.{id_column} = {table}.{id_column})"
        ),
        {**key, "run_id": run_id},
    ).rowcount
