"""Connectors registered by installed distributions under ``secoda.connectors``."""

from hub import CONNECTOR_GROUP
from hub.connectors import ConnectorEntry
from hub.entrypoints import entry_points_in
from hub.hookspecs import hookimpl


@hookimpl
def hub_discover_connectors() -> list[ConnectorEntry]:
    entries = []
    for entry_point in entry_points_in(CONNECTOR_GROUP):
        name, version = _name_and_version(entry_point.dist)
        entries.append(
            ConnectorEntry(
                name=entry_point.name,
                target=entry_point.value,
                distribution=name,
                version=version,
                origin="entry point",
                load=entry_point.load,
            )
        )
    return entries


def _name_and_version(distribution) -> tuple[str | None, str | None]:
    if distribution is None:
        return None, None
    # Reading .name and .version separately parses METADATA twice.
    metadata = distribution.metadata
    return metadata["Name"], metadata["Version"]
