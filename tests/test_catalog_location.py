"""``--catalog`` locations the hub must reject or leave alone, in a real process.

A database of another program is rejected before anything is written to
it, a directory is named as one, and a query does not create a catalog.
"""

import hashlib
import json
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
import sqlalchemy

from conftest import run_hub_process

# The fixtures that create a PostgreSQL database per test.
pytest_plugins = ["test_catalog_backends"]

QUIET_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import SecodaIntegration


    class Quiet(SecodaIntegration):
        def extract(self):
            pass
    """
)


@pytest.fixture
def quiet_connector(tmp_path):
    path = tmp_path / "quiet.py"
    path.write_text(QUIET_CONNECTOR)
    return path


def foreign_sqlite(path, *tables):
    connection = sqlite3.connect(path)
    for table in tables:
        connection.execute(f"CREATE TABLE {table} (x INTEGER)")
        connection.execute(f"INSERT INTO {table} VALUES (1)")
    connection.commit()
    connection.close()
    return path


def fingerprint(directory):
    """Return the name and sha256 of every file in ``directory``."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
    }


@pytest.mark.parametrize(
    "command",
    [("runs",), ("catalog", "resources"), ("run", "QUIET")],
    ids=["runs", "catalog-resources", "run"],
)
@pytest.mark.parametrize(
    "tables,listed",
    [(("mydata",), "mydata"), (("runs", "b"), "b, runs")],
    ids=["unrelated-table", "own-runs-table"],
)
def test_foreign_sqlite_rejected(tmp_path, quiet_connector, command, tables, listed):
    directory = tmp_path / "db"
    directory.mkdir()
    path = foreign_sqlite(directory / "foreign.sqlite", *tables)
    before = fingerprint(directory)
    arguments = [str(quiet_connector) if part == "QUIET" else part for part in command]

    result = run_hub_process(*arguments, "--catalog", str(path))

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"Error: {path} is not a hub catalog (it has tables {listed}); "
        "choose another --catalog"
    )
    assert "Traceback" not in result.stderr
    assert fingerprint(directory) == before


def test_non_database_file_rejected(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database\n" * 100)

    result = run_hub_process("runs", "--catalog", str(path))

    assert result.returncode == 2
    assert f"{path} is not a SQLite database" in result.stderr
    assert path.read_text() == "not a database\n" * 100


@pytest.mark.parametrize("command", [("runs",), ("run", "QUIET")], ids=["runs", "run"])
def test_directory_catalog_named(tmp_path, quiet_connector, command):
    arguments = [str(quiet_connector) if part == "QUIET" else part for part in command]

    result = run_hub_process(*arguments, "--catalog", str(tmp_path))

    assert result.returncode == 2
    assert f"catalog path '{tmp_path}' is a directory" in result.stderr
    assert str(tmp_path / "catalog.sqlite") in result.stderr
    assert "database is running" not in result.stderr


@pytest.mark.parametrize("location", [":memory:", "sqlite:///:memory:"])
def test_in_memory_catalog_rejected(tmp_path, quiet_connector, location):
    result = run_hub_process(
        "run", str(quiet_connector), "--catalog", location, cwd=tmp_path
    )

    assert result.returncode == 2
    assert result.stderr == (
        f"Error: {location!r} names an in-memory SQLite database, which is lost "
        "when the command ends; give a file path, such as catalog.sqlite\n"
    )
    assert [path.name for path in tmp_path.iterdir()] == [quiet_connector.name]


def test_runs_in_fresh_home(hub_home):
    result = run_hub_process("runs")

    catalog = hub_home / "data" / "catalog.sqlite"
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"No runs recorded yet: no catalog exists yet at {catalog}.\n"
    )
    assert not catalog.exists()


def test_runs_json_missing_catalog(tmp_path):
    path = tmp_path / "none.sqlite"

    result = run_hub_process("runs", "--catalog", str(path), "--json")

    assert result.returncode == 0
    assert result.stdout.strip() == "[]"
    assert not path.exists()


def test_query_missing_catalog(tmp_path):
    path = tmp_path / "none.sqlite"

    result = run_hub_process("catalog", "resources", "--catalog", str(path))

    assert result.returncode == 2
    assert f"no catalog exists yet at {path}" in result.stderr
    assert not path.exists()


def test_run_creates_missing_catalog(tmp_path, quiet_connector):
    path = tmp_path / "new" / "catalog.sqlite"

    result = run_hub_process("run", str(quiet_connector), "--catalog", str(path))

    assert result.returncode == 0, result.stderr
    assert path.exists()


def test_runs_of_unknown_connector(tmp_path, quiet_connector):
    path = tmp_path / "catalog.sqlite"
    run_hub_process("run", str(quiet_connector), "--catalog", str(path))

    result = run_hub_process("runs", "nosuch", "--catalog", str(path))

    assert result.returncode == 0
    assert result.stdout == (
        "No runs of connector 'nosuch' recorded. Connectors with runs: quiet.\n"
    )


def test_foreign_postgresql_rejected(postgres_database, quiet_connector):
    engine = sqlalchemy.create_engine(postgres_database)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE runs (x INTEGER)")
            connection.exec_driver_sql("CREATE TABLE resources (y TEXT)")

        results = [
            run_hub_process("runs", "--catalog", postgres_database),
            run_hub_process(
                "run", str(quiet_connector), "--catalog", postgres_database
            ),
        ]

        tables = sqlalchemy.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    for result in results:
        assert result.returncode == 2, result.stderr
        assert "is not a hub catalog (it has tables resources, runs)" in result.stderr
        assert "Traceback" not in result.stderr
    assert sorted(tables) == ["resources", "runs"]


# Every command that only reads the catalog, with the arguments it needs.
QUERIES = {
    "runs": ("runs",),
    "resources": ("catalog", "resources"),
    "show": ("catalog", "show", "some.id"),
    "lineage": ("catalog", "lineage", "some.id", "--upstream"),
    "export": ("catalog", "export", "EXPORT"),
}


def empty_sqlite(path):
    """Create a SQLite database with no tables, as another program may leave it."""
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE scratch (x INTEGER)")
    connection.execute("DROP TABLE scratch")
    connection.commit()
    connection.close()
    return path


def query_arguments(name, tmp_path):
    export = str(tmp_path / "export")
    return [export if part == "EXPORT" else part for part in QUERIES[name]]


@pytest.mark.parametrize("name", QUERIES)
@pytest.mark.parametrize("kind", ["empty-file", "empty-database"])
def test_query_leaves_empty_catalog_alone(tmp_path, name, kind):
    directory = tmp_path / "db"
    directory.mkdir()
    path = directory / "catalog.sqlite"
    if kind == "empty-file":
        path.touch()
    else:
        empty_sqlite(path)
    before = fingerprint(directory)

    result = run_hub_process(*query_arguments(name, tmp_path), "--catalog", str(path))

    assert "Traceback" not in result.stderr
    if name == "runs":
        assert result.returncode == 0, result.stderr
        assert result.stdout == (
            f"No runs recorded yet: no catalog exists yet at {path}.\n"
        )
    else:
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"Error: no catalog exists yet at {path}; run a connector with "
            "`hub run NAME` first, or pass --catalog"
        )
    assert fingerprint(directory) == before
    assert not (tmp_path / "export").exists()


@pytest.mark.parametrize("name", QUERIES)
def test_query_leaves_empty_postgresql_alone(postgres_database, tmp_path, name):
    result = run_hub_process(
        *query_arguments(name, tmp_path), "--catalog", postgres_database
    )

    engine = sqlalchemy.create_engine(postgres_database)
    try:
        tables = sqlalchemy.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert tables == []
    assert "Traceback" not in result.stderr
    if name == "runs":
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("No runs recorded yet: no catalog exists")
    else:
        assert result.returncode == 2
        assert "no catalog exists yet at postgresql://" in result.stderr


V1_CATALOG = Path(__file__).parent / "data" / "catalog-v1.sqlite"


@pytest.mark.parametrize("name", QUERIES)
def test_query_leaves_old_schema_alone(tmp_path, name):
    directory = tmp_path / "db"
    directory.mkdir()
    path = directory / "catalog.sqlite"
    shutil.copy(V1_CATALOG, path)
    before = fingerprint(directory)

    result = run_hub_process(*query_arguments(name, tmp_path), "--catalog", str(path))

    assert result.returncode == 2
    assert "has schema version 1, older than this hub's 2" in result.stderr
    assert "`hub catalog migrate`" in result.stderr
    assert fingerprint(directory) == before


def test_migrate_upgrades_old_schema(tmp_path):
    path = tmp_path / "catalog.sqlite"
    shutil.copy(V1_CATALOG, path)

    migrated = run_hub_process("catalog", "migrate", "--catalog", str(path))
    again = run_hub_process("catalog", "migrate", "--catalog", str(path))
    history = run_hub_process("runs", "--json", "--catalog", str(path))

    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout == (f"migrated catalog {path} from schema version 1 to 2\n")
    assert again.stdout == f"catalog {path} is already at schema version 2\n"
    assert history.returncode == 0, history.stderr
    assert [run["status"] for run in json.loads(history.stdout)] == [
        "succeeded",
        "succeeded",
    ]


@pytest.mark.parametrize("kind", ["missing", "empty-file", "empty-database"])
def test_migrate_creates_nothing(tmp_path, kind):
    directory = tmp_path / "db"
    directory.mkdir()
    path = directory / "catalog.sqlite"
    if kind == "empty-file":
        path.touch()
    elif kind == "empty-database":
        empty_sqlite(path)
    before = fingerprint(directory)

    result = run_hub_process("catalog", "migrate", "--catalog", str(path))

    assert result.returncode == 2
    assert f"no catalog exists yet at {path}" in result.stderr
    assert fingerprint(directory) == before


def test_run_creates_catalog_in_empty_file(tmp_path, quiet_connector):
    path = tmp_path / "catalog.sqlite"
    path.touch()

    result = run_hub_process("run", str(quiet_connector), "--catalog", str(path))
    history = run_hub_process("runs", "--json", "--catalog", str(path))

    assert result.returncode == 0, result.stderr
    assert [run["connector"] for run in json.loads(history.stdout)] == ["quiet"]
