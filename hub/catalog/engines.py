"""Catalog locations and the SQLAlchemy engines that open them."""

from __future__ import annotations

import contextlib
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from hub.errors import CatalogURLError

# Seconds a writer waits for another run's merge before failing.
BUSY_TIMEOUT_SECONDS = 60

# Page caches of a SQLite connection, in KiB: for the catalog file, for the
# temp database that contains a run's staging, and for the catalog while a
# large sort runs (see ``hub.catalog.staging`` and ``hub.catalog.merge``).
SQLITE_CACHE_KIB = 32 * 1024
SQLITE_TEMP_CACHE_KIB = 8 * 1024
SQLITE_SORT_CACHE_KIB = 8 * 1024

# Helper threads a SQLite sort may start. Sorting staged rows and rebuilding
# indexes take about half of a large merge's time, and helpers spread it over
# more CPUs. Each has a sort buffer of its own, sized by the catalog's page
# cache, which is why large sorts run with SQLITE_SORT_CACHE_KIB. Two helpers
# beat one on a 2-CPU machine (docs/benchmarks.md).
SQLITE_SORT_THREADS = 2

POSTGRESQL_SCHEMES = ("postgresql", "postgresql+psycopg")

# Execution option that makes the next SQLite transaction BEGIN IMMEDIATE, so
# a merge takes the write lock up front instead of failing on an upgrade.
IMMEDIATE = "hub_sqlite_immediate"


def sqlite_path(location: str) -> Path | None:
    """Return the file a location names, or None when it is not SQLite.

    SQLite's in-memory name ``:memory:`` is rejected, because such a catalog
    would be lost when the command ends.
    """
    if location.startswith("sqlite:///"):
        path = urllib.parse.unquote(location[len("sqlite:///") :])
    elif "://" in location:
        return None
    else:
        path = location
    if path == ":memory:":
        raise CatalogURLError(
            f"{location!r} names an in-memory SQLite database, which is lost "
            "when the command ends; give a file path, such as catalog.sqlite"
        )
    return Path(path)


def is_postgresql(location: str) -> bool:
    return location.split("://", 1)[0].startswith("postgresql")


def display_location(location: str) -> str:
    """Return a location with any password in a URL replaced by ``***``."""
    parts = urllib.parse.urlsplit(location)
    if parts.password is None:
        return location
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def hide_password(text: str, location: str) -> str:
    """Replace the password of ``location`` wherever it occurs in ``text``."""
    password = urllib.parse.urlsplit(location).password
    if not password:
        return text
    text = text.replace(password, "***")
    return text.replace(urllib.parse.quote(password, safe=""), "***")


def reject_directory(path: Path) -> None:
    """Raise :class:`CatalogURLError` when ``path`` names a directory."""
    if path.is_dir():
        raise CatalogURLError(
            f"catalog path {str(path)!r} is a directory; give a file path, "
            f"such as {str(path / 'catalog.sqlite')!r}"
        )


def read_sqlite_tables(path: Path) -> tuple[list[str], int] | None:
    """Return an existing SQLite file's table names and ``user_version``.

    Opens the file read-only, so a file that turns out to belong to another
    program is left exactly as it was, whereas an engine from
    :func:`sqlite_engine` switches it to WAL mode on connect. Returns None
    when the read-only open fails for a reason other than the file's format,
    such as a WAL file whose shared-memory file cannot be created, and leaves
    the engine to report the error.
    """
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return None
    try:
        rows = connection.execute(
            "SELECT name FROM sqlite_master"
            " WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
        user_version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            raise CatalogURLError(
                f"{path} is not a SQLite database, so it cannot be a hub "
                "catalog; choose another --catalog"
            ) from None
        return None
    finally:
        connection.close()
    return [name for (name,) in rows], user_version


def sqlite_engine(path: Path, read_only: bool = False) -> Engine:
    """Create an engine for one SQLite file: WAL, a busy timeout, foreign keys.

    A ``read_only`` engine leaves the journal mode as the file has it,
    because switching it to WAL writes to the file.
    """
    engine = sqlalchemy.create_engine(
        f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_SECONDS}
    )
    configure = _configure_sqlite_reader if read_only else _configure_sqlite
    sqlalchemy.event.listen(engine, "connect", configure)
    sqlalchemy.event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    _configure_sqlite_reader(dbapi_connection, connection_record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _configure_sqlite_reader(dbapi_connection, connection_record) -> None:
    # The sqlite3 module's own transaction handling would commit behind
    # SQLAlchemy's back; with autocommit at the driver level, the "begin"
    # listener below issues every BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # Fixed page caches bound the memory (negative sizes are KiB). The file's
    # is larger, for larger batches of pages per write; the temp database's
    # staging tables are mostly read and written in order.
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA temp.cache_size = -{SQLITE_TEMP_CACHE_KIB}")
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.execute(f"PRAGMA threads = {SQLITE_SORT_THREADS}")
    cursor.close()
    # SQLite's own lower() changes only ASCII letters, so a search for
    # "ärger" missed "Ärger". Python's str.lower() agrees with PostgreSQL's
    # lower() for most text.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _begin_sqlite(connection) -> None:
    immediate = connection.get_execution_options().get(IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextlib.contextmanager
def small_sort_cache(connection: sqlalchemy.Connection) -> Iterator[None]:
    """Shrink a SQLite catalog's page cache for the large sorts of the block.

    SQLite sizes a sort's buffers by the catalog's page cache, one buffer for
    each sorting thread, so a small cache keeps the peak memory of a large
    sort down. Call it inside a transaction. An error skips the reset, since
    the run's connection is then discarded. PostgreSQL is left as it is.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA main.cache_size = -{SQLITE_SORT_CACHE_KIB}")
    yield
    connection.exec_driver_sql(f"PRAGMA main.cache_size = -{SQLITE_CACHE_KIB}")


def postgresql_engine(location: str) -> Engine:
    """Create an engine for a ``postgresql://`` URL, always with psycopg 3."""
    try:
        url = make_url(location)
    except ArgumentError as error:
        raise CatalogURLError(
            f"invalid catalog URL {display_location(location)!r}: {error}; "
            "use postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if url.drivername not in POSTGRESQL_SCHEMES:
        raise CatalogURLError(
            f"unsupported PostgreSQL driver {url.drivername!r} in "
            f"{url.render_as_string(hide_password=True)!r}; "
            "use postgresql:// or postgresql+psycopg://"
        )
    try:
        return sqlalchemy.create_engine(
            url.set(drivername="postgresql+psycopg"), hide_parameters=True
        )
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] != "psycopg":
            raise
        raise CatalogURLError(
            f"the PostgreSQL catalog {display_location(location)!r} needs "
            "psycopg 3, which is not installed; install it with "
            "`pip install 'secoda-hub[postgresql]'`, or with "
            "`pip install '.[postgresql]'` in a checkout of the hub"
        ) from None
