"""The default catalog: a SQLite file, named by a path or a sqlite:/// URL."""

from hub.hookspecs import hookimpl


@hookimpl(trylast=True)
def hub_open_catalog(location: str, read_only: bool):
    from hub.catalog import sqlite_path

    path = sqlite_path(location)
    if path is None:
        return None

    from hub.catalog import SQLiteCatalog

    return SQLiteCatalog(path, read_only=read_only)
