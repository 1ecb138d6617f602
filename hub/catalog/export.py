"""Writing a catalog's fresh models in Secoda's upload format."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from hub.catalog.schema import lineage, resources
from hub.catalog.store import Catalog
from hub.errors import CatalogError
from hub.files import create_temporary_file

# Rows fetched from the database at a time while exporting.
EXPORT_BATCH = 5000


def export_upload(
    catalog: Catalog,
    directory: Path,
    connector: str | None = None,
    profile: str | None = None,
) -> dict[str, int]:
    """Write ``resources.jsonl`` and ``lineage.jsonl`` of the fresh rows.

    Fresh rows are those the latest successful sync of each profile declared,
    as stored bodies, without derived lineage edges. Both files are written
    from one read transaction to temporary names and renamed into place, so
    a reader never sees a half-written file. The files get the mode that
    ``open()`` gives a new file, as ``hub run --output`` writes them. Returns
    the count per file.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CatalogError(
            f"cannot create the export directory {str(directory)!r}: "
            f"{error.strerror}; pass a writable directory"
        ) from error
    queries = {
        "resources.jsonl": _fresh(resources, connector, profile),
        "lineage.jsonl": _fresh(lineage, connector, profile).where(
            lineage.c.derived_from.is_(None)
        ),
    }
    counts: dict[str, int] = {}
    written: dict[str, str] = {}
    try:
        with catalog.read() as connection:
            for name, query in queries.items():
                rows = connection.execution_options(yield_per=EXPORT_BATCH)
                written[name], counts[name] = _write_lines(
                    directory, rows.execute(query).scalars()
                )
        for name, temporary in written.items():
            os.replace(temporary, directory / name)
    finally:
        for temporary in written.values():
            Path(temporary).unlink(missing_ok=True)
    return counts


def _fresh(table, connector: str | None, profile: str | None):
    key = table.c.databuilder_id if table is resources else table.c.edge_key
    query = select(table.c.body).where(table.c.stale.is_(False))
    if connector:
        query = query.where(table.c.connector == connector)
    if profile:
        query = query.where(table.c.profile == profile)
    return query.order_by(table.c.connector, table.c.profile, key)


def _write_lines(directory: Path, bodies) -> tuple[str, int]:
    descriptor, path = create_temporary_file(directory, prefix=".", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            for body in bodies:
                handle.write(body)
                handle.write("\n")
                count += 1
            # On disk before the rename, so a crash cannot leave an empty
            # or short file under the final name.
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return str(path), count
