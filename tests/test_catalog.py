"""The SQLite catalog: one merge per run, rollback on failure, staleness."""

import sqlite3

import pytest

from hub.catalog import SCHEMA_VERSION, SQLiteCatalog, display_location, sqlite_path
from hub.sdk import DeclaredLineage, InternalResource, Resource


def resource(identifier, title=""):
    return Resource(entity_type="table", databuilder_id=identifier, title=title)


def sync(catalog, identifiers, title=""):
    run_id = catalog.begin_run("conn", "default", "dist", "1.0")
    writer = catalog.open_sync(run_id, "conn", "default")
    for identifier in identifiers:
        model = resource(identifier, title)
        writer.write_resource(model, model.model_dump_json(exclude_none=True))
    return run_id, writer


@pytest.fixture
def catalog(tmp_path):
    opened = SQLiteCatalog(tmp_path / "catalog.sqlite")
    yield opened
    opened.close()


def test_new_catalog_has_schema_version(catalog):
    version = catalog.connection.execute("PRAGMA user_version").fetchone()[0]
    mode = catalog.connection.execute("PRAGMA journal_mode").fetchone()[0]

    assert version == SCHEMA_VERSION
    assert mode == "wal"


def test_commit_counts_changes(catalog):
    _, first = sync(catalog, ["a", "b"])
    first.commit()
    _, second = sync(catalog, ["a", "b", "c"], title="new")
    second.commit()

    counts = second.result.resources
    assert (counts.added, counts.changed, counts.unchanged, counts.stale) == (
        1,
        2,
        0,
        0,
    )


def test_missing_resources_become_stale(catalog):
    _, first = sync(catalog, ["a", "b"])
    first.commit()
    _, second = sync(catalog, ["a"])
    second.commit()

    rows = {
        row["databuilder_id"]: row["stale"]
        for row in catalog.resources("conn", "default")
    }
    assert rows == {"a": 0, "b": 1}
    assert second.result.resources.stale == 1


def test_reappearing_resource_is_fresh(catalog):
    for identifiers in (["a", "b"], ["a"], ["a", "b"]):
        _, writer = sync(catalog, identifiers)
        writer.commit()

    rows = {
        row["databuilder_id"]: row["stale"]
        for row in catalog.resources("conn", "default")
    }
    assert rows == {"a": 0, "b": 0}


def test_abort_leaves_catalog_unchanged(catalog):
    _, first = sync(catalog, ["a"])
    first.commit()
    before = catalog.resources("conn", "default")

    run_id, second = sync(catalog, [f"x{number}" for number in range(5000)])
    second.abort()
    catalog.fail_run(run_id, "boom", {})

    assert catalog.resources("conn", "default") == before
    assert catalog.runs()[-1]["status"] == "failed"


def test_uncommitted_sync_is_invisible(catalog, tmp_path):
    _, writer = sync(catalog, [f"x{number}" for number in range(5000)])

    with sqlite3.connect(tmp_path / "catalog.sqlite") as reader:
        count = reader.execute("SELECT COUNT(*) FROM resources").fetchone()[0]

    assert count == 0
    writer.abort()


def test_duplicate_id_keeps_later(catalog):
    run_id = catalog.begin_run("conn", "default", None, None)
    writer = catalog.open_sync(run_id, "conn", "default")
    for title in ("first", "second"):
        model = resource("a", title)
        writer.write_resource(model, model.model_dump_json(exclude_none=True))
    writer.commit()

    assert [row["title"] for row in catalog.resources("conn", "default")] == ["second"]


def test_lineage_is_stored_once(catalog):
    run_id = catalog.begin_run("conn", "default", None, None)
    writer = catalog.open_sync(run_id, "conn", "default")
    edge = DeclaredLineage(
        from_identifier=InternalResource(databuilder_id="a"),
        to_identifier=InternalResource(databuilder_id="b"),
    )
    for _ in range(2):
        writer.write_lineage(edge, edge.model_dump_json(exclude_none=True))
    writer.commit()

    rows = catalog.lineage("conn", "default")
    assert [(row["from_ref"], row["to_ref"]) for row in rows] == [("a", "b")]


def test_sqlite_url_forms():
    assert str(sqlite_path("sqlite:////tmp/x.sqlite")) == "/tmp/x.sqlite"
    assert str(sqlite_path("relative.sqlite")) == "relative.sqlite"
    assert sqlite_path("postgresql://u:p@localhost/db") is None


def test_display_location_hides_password():
    shown = display_location("postgresql://user:s3cret@localhost/db")

    assert shown == "postgresql://user:***@localhost/db"


def test_unsupported_url_is_usage_error(hub):
    result = hub("run", "cluvio", "--catalog", "postgresql://u:pw-123@localhost/db")

    assert result.exit_code == 2
    assert "pw-123" not in result.output
