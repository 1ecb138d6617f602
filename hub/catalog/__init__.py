"""The local catalog: what each run of each connector profile extracted.

A run streams its models into temporary tables that only its own connection
can read, then merges them in one short transaction when it succeeds. A run that
fails, or a process that dies, therefore leaves the catalog exactly as the
previous successful sync wrote it, and concurrent runs only contend during
that final merge. SQLite (the default, one file) and PostgreSQL share this
code through SQLAlchemy Core.
"""

from hub.catalog.engines import (
    BUSY_TIMEOUT_SECONDS,
    display_location,
    is_postgresql,
    sqlite_path,
)
from hub.catalog.records import SyncCounts, SyncResult, lineage_ref, now
from hub.catalog.schema import SCHEMA_VERSION
from hub.catalog.store import Catalog, PostgreSQLCatalog, SQLiteCatalog
from hub.catalog.sync import BATCH_SIZE, DEFAULT_STALE_THRESHOLD, CatalogSync

__all__ = [
    "BATCH_SIZE",
    "BUSY_TIMEOUT_SECONDS",
    "Catalog",
    "CatalogSync",
    "DEFAULT_STALE_THRESHOLD",
    "PostgreSQLCatalog",
    "SCHEMA_VERSION",
    "SQLiteCatalog",
    "SyncCounts",
    "SyncResult",
    "display_location",
    "is_postgresql",
    "lineage_ref",
    "now",
    "open_catalog",
    "sqlite_path",
]


def open_catalog(location: str, read_only: bool = False) -> Catalog:
    """Open the catalog at ``location`` through the first plugin that handles it.

    Only a command that writes, such as ``hub run``, creates a catalog or
    migrates its schema. With ``read_only`` a missing catalog raises
    :class:`hub.errors.CatalogNotFoundError`, and nothing is written.
    """
    from hub.errors import CatalogURLError
    from hub.plugins import get_plugin_manager

    hook = get_plugin_manager().hook
    catalog = hook.hub_open_catalog(location=location, read_only=read_only)
    if catalog is None:
        raise CatalogURLError(
            f"no catalog backend handles {display_location(location)!r}; give a "
            "file path, a sqlite:///PATH URL or a postgresql://HOST/DATABASE URL"
        )
    return catalog
