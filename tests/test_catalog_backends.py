"""Fixtures that run a catalog test once on SQLite and once on PostgreSQL.

The PostgreSQL server comes from ``scripts/postgres.sh start``, whose URL the
tests read from ``SECODA_HUB_TEST_POSTGRES_URL``. Each test gets a database
of its own, dropped afterwards. Without the URL the PostgreSQL cases are
skipped, except under ``CI=true``, where they fail so CI cannot silently lose
half of the suite.
"""

import os
import uuid

import pytest
import sqlalchemy

from hub.catalog import open_catalog

POSTGRES_URL_ENV = "SECODA_HUB_TEST_POSTGRES_URL"

# Read at import: the autouse ``hub_home`` fixture removes every SECODA_HUB_
# variable from the environment before a test body runs.
POSTGRES_URL = os.environ.get(POSTGRES_URL_ENV)


def require_postgres() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    message = (
        f"{POSTGRES_URL_ENV} is not set; start a server with "
        f"`scripts/postgres.sh start` and export the URL it prints"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def postgres_database():
    """Create an empty database and return its URL."""
    server = require_postgres()
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sqlalchemy.engine.make_url(server).set(database=name)
        yield url.render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_location(request, tmp_path) -> str:
    """A catalog location of each backend, not opened yet."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def catalog(catalog_location):
    opened = open_catalog(catalog_location)
    yield opened
    opened.close()


def test_missing_url_skips(monkeypatch):
    monkeypatch.setattr(f"{__name__}.POSTGRES_URL", None)
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="scripts/postgres.sh start"):
        require_postgres()


def test_missing_url_fails_in_ci(monkeypatch):
    monkeypatch.setattr(f"{__name__}.POSTGRES_URL", None)
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match=POSTGRES_URL_ENV):
        require_postgres()


def test_given_url_is_used(monkeypatch):
    monkeypatch.setattr(f"{__name__}.POSTGRES_URL", "postgresql://hub@127.0.0.1:1/x")

    assert require_postgres() == "postgresql://hub@127.0.0.1:1/x"
