"""Writing a catalog's fresh models in Secoda's upload format."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from sqlalchemy import select, union

from hub.catalog.schema import lineage, resources
from hub.catalog.store import Catalog
from hub.errors import CatalogError, ConfigurationError
from hub.files import create_temporary_file

# Rows fetched from the database at a time while exporting.
EXPORT_BATCH = 5000


def export_upload(
    catalog: Catalog, directory: Path, connector: str, profile: str
) -> dict[str, int]:
    """Write ``resources.jsonl`` and ``lineage.jsonl`` of one profile's fresh rows.

    Fresh rows are those the latest successful sync of the profile declared,
    as stored bodies, without derived lineage edges. One upload describes one
    source, and :func:`choose_profile` finds the profile a user means. Both
    files are written from one read transaction to temporary names and
    renamed into place, so a reader never sees a half-written file. The
    files get the mode that ``open()`` gives a new file, as ``hub run
    --output`` writes them. Returns the count per file.
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


def choose_profile(
    catalog: Catalog, connector: str | None, profile: str | None
) -> tuple[str, str]:
    """Return the one connector profile with fresh rows that the filters match."""
    queries = [
        _filtered(select(table.c.connector, table.c.profile), table, connector, profile)
        for table in (resources, lineage)
    ]
    with catalog.read() as connection:
        pairs = sorted(connection.execute(union(*queries)).all())
    if len(pairs) == 1:
        return pairs[0]

    filters = " ".join(
        f"{name} {value!r}"
        for name, value in (("connector", connector), ("profile", profile))
        if value
    )
    if not pairs:
        raise ConfigurationError(
            f"the catalog has no fresh rows{' of ' + filters if filters else ''}; "
            "`hub runs` lists the connector profiles it has synced"
        )
    choices = "\n".join(
        "  " + shlex.join(["--connector", name, "--profile", kind])
        for name, kind in pairs
    )
    raise ConfigurationError(
        f"the catalog has fresh rows of {len(pairs)} connector profiles"
        f"{' matching ' + filters if filters else ''}, and an upload describes "
        f"one; pick it with:\n{choices}"
    )


def _filtered(query, table, connector: str | None, profile: str | None):
    query = query.where(table.c.stale.is_(False))
    if connector:
        query = query.where(table.c.connector == connector)
    if profile:
        query = query.where(table.c.profile == profile)
    return query


def _fresh(table, connector: str | None, profile: str | None):
    key = table.c.databuilder_id if table is resources else table.c.edge_key
    query = _filtered(select(table.c.body), table, connector, profile)
    return query.order_by(key)


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
