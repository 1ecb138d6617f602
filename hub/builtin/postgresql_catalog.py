"""The PostgreSQL catalog, for ``postgresql://`` and ``postgresql+psycopg://`` URLs."""

from hub.hookspecs import hookimpl


@hookimpl
def hub_open_catalog(location: str, read_only: bool):
    from hub.catalog import is_postgresql

    if not is_postgresql(location):
        return None

    from hub.catalog import PostgreSQLCatalog

    return PostgreSQLCatalog(location, read_only=read_only)
