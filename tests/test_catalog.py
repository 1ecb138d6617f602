"""Catalog sync semantics, on SQLite and on PostgreSQL."""

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy

from hub.catalog import (
    BATCH_SIZE,
    SCHEMA_VERSION,
    PostgreSQLCatalog,
    SQLiteCatalog,
    display_location,
    open_catalog,
    sqlite_path,
)
from hub.catalog.engines import (
    SQLITE_CACHE_KIB,
    SQLITE_SORT_CACHE_KIB,
    SQLITE_SORT_THREADS,
    postgresql_engine,
)
from hub.errors import CatalogError, CatalogURLError
from hub.sdk import (
    DeclaredLineage,
    ExternalTable,
    InternalResource,
    Resource,
    TablesFromSQLQuery,
)

# The fixtures that run each test on SQLite and on PostgreSQL.
pytest_plugins = ["test_catalog_backends"]

V1_CATALOG = Path(__file__).parent / "data" / "catalog-v1.sqlite"


def resource(identifier, title=""):
    return Resource(entity_type="table", databuilder_id=identifier, title=title)


def edge(source, target):
    return DeclaredLineage(
        from_identifier=InternalResource(databuilder_id=source),
        to_identifier=InternalResource(databuilder_id=target),
    )


def body(model):
    return model.model_dump_json(exclude_none=True)


def open_run(catalog, connector="conn", **options):
    run_id = catalog.begin_run(connector, "default", "dist", "1.0")
    return run_id, catalog.open_sync(run_id, connector, "default", **options)


def sync(catalog, identifiers, title="", edges=(), **options):
    """Run one sync declaring ``identifiers`` and ``edges``, and commit it."""
    _, writer = open_run(catalog, **options)
    for identifier in identifiers:
        model = resource(identifier, title)
        writer.write_resource(model, body(model))
    for source, target in edges:
        model = edge(source, target)
        writer.write_lineage(model, body(model))
    writer.commit()
    return writer.result


def states(catalog, table="resources", key="databuilder_id"):
    rows = getattr(catalog, table)("conn", "default")
    return {row[key]: bool(row["stale"]) for row in rows}


def test_schema_version_recorded(catalog):
    with catalog.read() as connection:
        stored = connection.exec_driver_sql("SELECT version FROM schema_version")

        assert stored.scalar_one() == SCHEMA_VERSION


def test_sqlite_pragmas(tmp_path):
    opened = SQLiteCatalog(tmp_path / "catalog.sqlite")
    try:
        with opened.read() as connection:
            pragma = connection.exec_driver_sql
            mode = pragma("PRAGMA journal_mode").scalar()
            foreign_keys = pragma("PRAGMA foreign_keys").scalar()
            timeout = pragma("PRAGMA busy_timeout").scalar()
            version = pragma("PRAGMA user_version").scalar()
            threads = pragma("PRAGMA threads").scalar()
    finally:
        opened.close()

    assert mode == "wal"
    assert foreign_keys == 1
    assert timeout > 0
    assert version == SCHEMA_VERSION
    assert threads == SQLITE_SORT_THREADS


def test_older_run_cannot_replace_newer_sync(catalog):
    sync(catalog, ["a", "b"])
    older_id, older = open_run(catalog)
    newer_id, newer = open_run(catalog, allow_mass_stale=True)
    for identifier in ["a", "b", "c"]:
        model = resource(identifier)
        older.write_resource(model, body(model))
    model = resource("a")
    newer.write_resource(model, body(model))
    newer.commit()

    with pytest.raises(CatalogError) as raised:
        older.commit()

    assert f"run {older_id} of conn (profile default) started before run " in str(
        raised.value
    )
    assert f"keeps the sync of run {newer_id}" in str(raised.value)
    assert states(catalog) == {"a": False, "b": True}


def test_newer_run_replaces_older_sync(catalog):
    sync(catalog, ["a", "b"])
    _, older = open_run(catalog)
    _, newer = open_run(catalog)
    for writer, identifiers in ((older, ["a"]), (newer, ["a", "b", "c"])):
        for identifier in identifiers:
            model = resource(identifier)
            writer.write_resource(model, body(model))
    older.abort()

    newer.commit()

    assert states(catalog) == {"a": False, "b": False, "c": False}


def test_commit_counts_changes(catalog):
    sync(catalog, ["a", "b"])
    counts = sync(catalog, ["a", "b", "c"], title="new").resources

    assert counts.added == 1
    assert counts.changed == 2
    assert counts.unchanged == 0
    assert counts.stale == 0


def test_unchanged_sync_keeps_changed_run(catalog):
    first = sync(catalog, ["a", "b", "c"])
    second = sync(catalog, ["a", "b", "c"])

    assert first.resources.added == 3
    assert second.resources.unchanged == 3
    assert {row["changed_run_id"] for row in catalog.resources("conn", "default")} == {
        1
    }


def test_missing_resources_become_stale(catalog):
    sync(catalog, [f"r{number}" for number in range(10)])
    result = sync(catalog, [f"r{number}" for number in range(9)])

    assert result.resources.stale == 1
    assert states(catalog)["r9"] is True
    assert states(catalog)["r0"] is False


def test_stale_row_names_staling_run(catalog):
    sync(catalog, [f"r{number}" for number in range(10)])
    sync(catalog, [f"r{number}" for number in range(9)])

    rows = {row["databuilder_id"]: row for row in catalog.resources("conn", "default")}
    assert rows["r9"]["stale_run_id"] == 2
    assert rows["r0"]["stale_run_id"] is None


def test_reappearing_resource_is_fresh(catalog):
    identifiers = [f"r{number}" for number in range(10)]
    sync(catalog, identifiers)
    sync(catalog, identifiers[:-1])
    result = sync(catalog, identifiers)

    assert states(catalog)["r9"] is False
    assert result.resources.restored == 1
    assert result.resources.unchanged == 10


def test_changed_reappearing_resource_is_fresh(catalog):
    identifiers = [f"r{number}" for number in range(10)]
    sync(catalog, identifiers)
    sync(catalog, identifiers[:-1])
    result = sync(catalog, identifiers, title="renamed")

    assert states(catalog)["r9"] is False
    assert result.resources.restored == 1
    assert result.resources.changed == 10


def test_lineage_goes_stale_and_back(catalog):
    identifiers = [f"r{number}" for number in range(10)]
    sync(catalog, identifiers, edges=[("r0", "r1"), ("r1", "r2")])
    # Half of the edges go stale, past the fail-safe's threshold.
    dropped = sync(catalog, identifiers, edges=[("r0", "r1")], allow_mass_stale=True)
    back = sync(catalog, identifiers, edges=[("r0", "r1"), ("r1", "r2")])

    assert dropped.lineage.stale == 1
    assert back.lineage.restored == 1
    assert set(states(catalog, "lineage", "to_ref").values()) == {False}


def test_mass_stale_guard_keeps_fresh(catalog, caplog):
    sync(catalog, [f"r{number}" for number in range(10)])
    with caplog.at_level(logging.WARNING, logger="hub.catalog.sync"):
        result = sync(catalog, ["r0", "r1"])

    assert result.resources.stale == 0
    assert set(states(catalog).values()) == {False}
    assert result.stale_guard.would_stale == 8
    assert "8 of 10" in caplog.text


def test_mass_stale_guard_in_summary(catalog):
    sync(catalog, [f"r{number}" for number in range(10)])
    _, writer = open_run(catalog)
    model = resource("r0")
    writer.write_resource(model, body(model))
    writer.commit()

    guard = writer.summary["catalog"]["stale_guard"]
    assert guard["would_stale"] == 9
    assert "--allow-mass-stale" in guard["reason"]


def test_mass_stale_guard_counts_lineage(catalog):
    identifiers = [f"r{number}" for number in range(4)]
    edges = list(zip(identifiers, identifiers[1:], strict=False))
    sync(catalog, identifiers, edges=edges)

    guarded = sync(catalog, identifiers, edges=edges[:1])
    allowed = sync(catalog, identifiers, edges=edges[:1], allow_mass_stale=True)

    assert guarded.stale_guard.kind == "lineage edges"
    assert guarded.stale_guard.would_stale == 2
    assert (
        "would mark 2 of 3 lineage edges stale"
        in guarded.as_dict()["stale_guard"]["reason"]
    )
    assert guarded.lineage.stale == 0
    assert allowed.lineage.stale == 2


def test_allow_mass_stale_overrides(catalog):
    sync(catalog, [f"r{number}" for number in range(10)])
    result = sync(catalog, ["r0", "r1"], allow_mass_stale=True)

    assert result.resources.stale == 8
    assert result.stale_guard is None


def test_stale_threshold_is_parameter(catalog):
    sync(catalog, [f"r{number}" for number in range(10)])
    result = sync(catalog, ["r0", "r1"], stale_threshold=0.9)

    assert result.resources.stale == 8


def test_invalid_threshold_rejected(catalog):
    run_id = catalog.begin_run("conn", "default", None, None)

    with pytest.raises(CatalogError, match="between 0 and 1"):
        catalog.open_sync(run_id, "conn", "default", stale_threshold=20)


def test_abort_leaves_catalog_unchanged(catalog):
    sync(catalog, ["a"])
    before = catalog.resources("conn", "default")

    run_id, writer = open_run(catalog)
    for number in range(5000):
        model = resource(f"x{number}")
        writer.write_resource(model, body(model))
    writer.abort()
    catalog.fail_run(run_id, "lost the connection", {})

    assert catalog.resources("conn", "default") == before
    assert catalog.runs()[-1]["status"] == "failed"
    assert catalog.runs()[-1]["error"] == "lost the connection"


def test_uncommitted_sync_is_invisible(catalog_location):
    writing = open_catalog(catalog_location)
    reading = open_catalog(catalog_location)
    try:
        _, writer = open_run(writing)
        for number in range(5000):
            model = resource(f"x{number}")
            writer.write_resource(model, body(model))

        assert reading.resources("conn", "default") == []
        writer.abort()
    finally:
        writing.close()
        reading.close()


def test_duplicate_id_keeps_later(catalog):
    _, writer = open_run(catalog)
    for title in ("first", "second"):
        model = resource("a", title)
        writer.write_resource(model, body(model))
    writer.commit()

    assert [row["title"] for row in catalog.resources("conn", "default")] == ["second"]
    assert writer.result.duplicates.count == 1
    assert writer.result.duplicates.examples == ["a"]


def test_duplicate_across_batches_counted(catalog):
    _, writer = open_run(catalog)
    identifiers = [f"r{number}" for number in range(BATCH_SIZE + 500)]
    for identifier in identifiers + identifiers[:30]:
        model = resource(identifier, "again")
        writer.write_resource(model, body(model))
    writer.commit()

    duplicates = writer.result.duplicates
    assert duplicates.count == 30
    assert len(duplicates.examples) == 10
    assert writer.result.resources.added == BATCH_SIZE + 500
    assert {row["title"] for row in catalog.resources("conn", "default")} == {"again"}


def test_duplicate_examples_sorted(catalog):
    _, writer = open_run(catalog)
    for identifier in ["b", "a", "c", "b", "a", "b"]:
        model = resource(identifier)
        writer.write_resource(model, body(model))
    writer.commit()

    assert writer.result.duplicates.count == 3
    assert writer.result.duplicates.examples == ["a", "b"]
    assert writer.result.resources.added == 3


def test_lineage_is_stored_once(catalog):
    _, writer = open_run(catalog)
    for model in (resource("a"), resource("b")):
        writer.write_resource(model, body(model))
    for _ in range(2):
        writer.write_lineage(edge("a", "b"), body(edge("a", "b")))
    writer.commit()

    rows = catalog.lineage("conn", "default")
    assert [(row["from_ref"], row["to_ref"]) for row in rows] == [("a", "b")]


def test_dangling_end_flagged_unresolved(catalog):
    result = sync(catalog, ["a"], edges=[("a", "ghost"), ("a", "a")])

    rows = {row["to_ref"]: row for row in catalog.lineage("conn", "default")}
    assert result.dangling.count == 1
    assert result.dangling.examples == ["ghost"]
    assert result.unresolved_edges == 1
    assert bool(rows["ghost"]["unresolved"]) is True
    assert bool(rows["a"]["unresolved"]) is False


def test_external_end_never_dangles(catalog):
    _, writer = open_run(catalog)
    writer.write_resource(resource("a"), body(resource("a")))
    # An external table spelled like a missing resource id is still external.
    model = DeclaredLineage(
        from_identifier=ExternalTable(table="ghost"),
        to_identifier=InternalResource(databuilder_id="a"),
    )
    writer.write_lineage(model, body(model))
    writer.commit()

    assert writer.result.dangling.count == 0
    assert writer.result.unresolved_edges == 0
    assert bool(catalog.lineage("conn", "default")[0]["unresolved"]) is False


def test_dangling_end_invents_no_resource(catalog):
    sync(catalog, ["a"], edges=[("ghost", "a")])

    assert list(states(catalog)) == ["a"]


def test_resolved_end_clears_flag(catalog):
    sync(catalog, ["a"], edges=[("a", "b")])
    result = sync(catalog, ["a", "b"], edges=[("a", "b")])

    rows = catalog.lineage("conn", "default")
    assert bool(rows[0]["unresolved"]) is False
    assert result.lineage.changed == 1


def derived_sync(catalog, with_sql=True):
    # Without SQL every edge goes stale, past the fail-safe's threshold.
    _, writer = open_run(catalog, allow_mass_stale=True)
    chart = Resource(entity_type="chart", databuilder_id="chart.1")
    writer.write_resource(chart, body(chart))
    original = DeclaredLineage(
        from_identifier=TablesFromSQLQuery(sql="select * from shop.orders"),
        to_identifier=InternalResource(databuilder_id="chart.1"),
    )
    derived = DeclaredLineage(
        from_identifier=ExternalTable(database="shop", table="orders"),
        to_identifier=InternalResource(databuilder_id="chart.1"),
    )
    if with_sql:
        writer.write_lineage(original, body(original))
        writer.write_derived_lineage(derived, body(derived), body(original))
    writer.commit()
    return writer


def test_derived_edge_names_original(catalog):
    derived_sync(catalog)

    rows = {row["from_type"]: row for row in catalog.lineage("conn", "default")}
    assert (
        rows["external_table"]["derived_from"] == rows["tables_from_query"]["edge_key"]
    )
    assert rows["tables_from_query"]["derived_from"] is None


def test_derived_edge_goes_stale(catalog):
    derived_sync(catalog)
    result = derived_sync(catalog, with_sql=False).result

    assert result.lineage.stale == 2
    assert set(states(catalog, "lineage", "from_type").values()) == {True}


def test_profiles_are_separate(catalog):
    sync(catalog, ["a", "b"])
    other = catalog.begin_run("conn", "staging", None, None)
    writer = catalog.open_sync(other, "conn", "staging")
    writer.write_resource(resource("z"), body(resource("z")))
    writer.commit()

    assert states(catalog) == {"a": False, "b": False}
    assert [row["databuilder_id"] for row in catalog.resources("conn", "staging")] == [
        "z"
    ]


def test_summary_stored_on_run(catalog):
    sync(catalog, ["a"])

    run = catalog.runs()[-1]
    assert run["status"] == "succeeded"
    assert run["resources"] == 1
    assert '"added": 1' in run["summary"]


def test_migration_from_version_one(tmp_path):
    path = tmp_path / "catalog.sqlite"
    shutil.copy(V1_CATALOG, path)

    migrated = SQLiteCatalog(path)
    try:
        rows = {
            row["databuilder_id"]: row for row in migrated.resources("demo", "default")
        }
        edges = migrated.lineage("demo", "default")
        runs = migrated.runs()
    finally:
        migrated.close()

    assert set(rows) == {"dash.1", "chart.1", "chart.2"}
    assert bool(rows["chart.2"]["stale"]) is True
    assert rows["chart.2"]["stale_run_id"] == 2
    assert rows["chart.1"]["changed_run_id"] == 2
    assert len(edges) == 4
    assert [run["status"] for run in runs] == ["succeeded", "succeeded"]


def test_migrated_catalog_version(tmp_path):
    path = tmp_path / "catalog.sqlite"
    shutil.copy(V1_CATALOG, path)
    SQLiteCatalog(path).close()

    with sqlite3.connect(path) as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        stored = connection.execute("SELECT version FROM schema_version").fetchall()
    connection.close()

    assert version == SCHEMA_VERSION
    assert stored == [(SCHEMA_VERSION,)]


def test_migrated_catalog_accepts_sync(tmp_path):
    path = tmp_path / "catalog.sqlite"
    shutil.copy(V1_CATALOG, path)
    migrated = SQLiteCatalog(path)
    try:
        run_id = migrated.begin_run("demo", "default", None, None)
        writer = migrated.open_sync(run_id, "demo", "default")
        for identifier in ("dash.1", "chart.1", "chart.2"):
            model = Resource(entity_type="chart", databuilder_id=identifier)
            writer.write_resource(model, body(model))
        writer.commit()
        rows = migrated.resources("demo", "default")
    finally:
        migrated.close()

    assert writer.result.resources.restored == 1
    assert {bool(row["stale"]) for row in rows} == {False}


def test_newer_schema_rejected(tmp_path):
    path = tmp_path / "catalog.sqlite"
    SQLiteCatalog(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    connection.close()

    with pytest.raises(CatalogURLError, match="schema version 99"):
        SQLiteCatalog(path)


def test_sqlite_url_forms():
    assert str(sqlite_path("sqlite:////tmp/x.sqlite")) == "/tmp/x.sqlite"
    assert str(sqlite_path("relative.sqlite")) == "relative.sqlite"
    assert sqlite_path("postgresql://u:p@localhost/db") is None


def test_display_location_hides_password():
    shown = display_location("postgresql://user:s3cret@localhost/db")

    assert shown == "postgresql://user:***@localhost/db"


def test_unstorable_value_names_the_fix(postgres_database):
    catalog = open_catalog(postgres_database)
    try:
        _, writer = open_run(catalog)
        model = resource("a\x00b")
        writer.write_resource(model, body(model))
        with pytest.raises(CatalogError) as raised:
            writer.commit()
    finally:
        catalog.close()

    message = str(raised.value)
    assert "NUL" in message
    assert "fix it in the connector" in message
    assert "reachable" not in message


def test_unreachable_postgres_hides_password():
    # Port 1 on the loopback address: refused at once, nothing leaves the host.
    with pytest.raises(CatalogURLError) as raised:
        PostgreSQLCatalog("postgresql://hub:pw-123@127.0.0.1:1/catalog")

    assert "pw-123" not in str(raised.value)
    assert "hub:***@127.0.0.1:1" in str(raised.value)


def test_unsupported_driver_rejected():
    with pytest.raises(CatalogURLError, match="postgresql\\+psycopg://"):
        PostgreSQLCatalog("postgresql+asyncpg://hub:pw-123@127.0.0.1:1/catalog")


def test_plain_postgresql_uses_psycopg():
    engine = postgresql_engine("postgresql://hub@127.0.0.1:1/catalog")

    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_locked_merge_raises_catalog_error(tmp_path, monkeypatch):
    monkeypatch.setattr("hub.catalog.engines.BUSY_TIMEOUT_SECONDS", 0.2)
    path = tmp_path / "catalog.sqlite"
    opened = SQLiteCatalog(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        _, writer = open_run(opened)
        writer.write_resource(resource("a"), body(resource("a")))
        blocker.execute("BEGIN IMMEDIATE")

        with pytest.raises(CatalogError, match="database is locked"):
            writer.commit()
        blocker.execute("ROLLBACK")
        assert opened.resources("conn", "default") == []
    finally:
        blocker.close()
        opened.close()


def catalog_indexes(catalog):
    with catalog.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            " AND name NOT LIKE 'sqlite_autoindex%'"
        )
        return sorted(name for (name,) in rows)


@pytest.fixture
def statements(sqlite_catalog):
    """The SQL statements the SQLite catalog's engine runs from now on."""
    executed = []

    def record(connection, cursor, statement, *arguments):
        executed.append(statement)

    sqlalchemy.event.listen(sqlite_catalog.engine, "before_cursor_execute", record)
    yield executed
    sqlalchemy.event.remove(sqlite_catalog.engine, "before_cursor_execute", record)


@pytest.fixture
def sqlite_catalog(tmp_path):
    opened = SQLiteCatalog(tmp_path / "catalog.sqlite")
    yield opened
    opened.close()


def test_bulk_load_rebuilds_indexes(sqlite_catalog, statements, monkeypatch):
    monkeypatch.setattr("hub.catalog.merge.BULK_LOAD_MIN_ROWS", 2)
    before = catalog_indexes(sqlite_catalog)
    sync(sqlite_catalog, ["a", "b", "c"], edges=[("a", "b"), ("b", "c")])

    dropped = [text for text in statements if "DROP INDEX" in text]
    assert len(dropped) == 3
    assert catalog_indexes(sqlite_catalog) == before
    assert len(sqlite_catalog.lineage("conn", "default")) == 2


def test_staging_sorts_with_small_cache(sqlite_catalog, statements):
    sync(sqlite_catalog, ["a", "b"], edges=[("a", "b")])

    shrink = statements.index(f"PRAGMA main.cache_size = -{SQLITE_SORT_CACHE_KIB}")
    restore = statements.index(f"PRAGMA main.cache_size = -{SQLITE_CACHE_KIB}")
    copies = [
        number
        for number, text in enumerate(statements)
        if text.startswith("INSERT OR REPLACE INTO staged_")
    ]
    merge = next(
        number
        for number, text in enumerate(statements)
        if text.startswith("INSERT INTO resources")
    )
    assert len(copies) == 2
    assert shrink < min(copies)
    assert max(copies) < restore
    assert restore < merge


def test_small_sync_keeps_indexes(sqlite_catalog, statements, monkeypatch):
    monkeypatch.setattr("hub.catalog.merge.BULK_LOAD_MIN_ROWS", 2)
    sync(sqlite_catalog, ["a", "b", "c"])
    statements.clear()
    # Two added rows are fewer than the three the table holds.
    sync(sqlite_catalog, ["a", "b", "c", "d", "e"])

    assert not [text for text in statements if "DROP INDEX" in text]


def test_failed_bulk_load_keeps_indexes(sqlite_catalog, monkeypatch):
    monkeypatch.setattr("hub.catalog.merge.BULK_LOAD_MIN_ROWS", 2)
    before = catalog_indexes(sqlite_catalog)

    def fail(index, connection):
        raise sqlalchemy.exc.OperationalError("CREATE INDEX", {}, Exception("full"))

    monkeypatch.setattr(sqlalchemy.Index, "create", fail)
    with pytest.raises(CatalogError, match="full"):
        sync(sqlite_catalog, ["a", "b", "c"])

    assert catalog_indexes(sqlite_catalog) == before
    assert sqlite_catalog.resources("conn", "default") == []
