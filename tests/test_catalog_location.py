"""``--catalog`` locations the hub must reject or leave alone, in a real process.

A database of another program is rejected before anything is written to
it, a directory is named as one, and a query does not create a catalog.
"""

import hashlib
import sqlite3
import textwrap

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
