"""Connectors registered by installed distributions under ``secoda.connectors``."""

from hub import CONNECTOR_GROUP
from hub.connectors import ConnectorEntry
from hub.entrypoints import entry_points_in
from hub.hookspecs import hookimpl


@hookimpl
def hub_discover_connectors() -> list[ConnectorEntry]:
    entries = []
    for entry_point in entry_points_in(CONNECTOR_GROUP):
        distribution = entry_point.dist
        entries.append(
            ConnectorEntry(
                name=entry_point.name,
                target=entry_point.value,
                distribution=distribution.name if distribution else None,
                version=distribution.version if distribution else None,
                origin="entry point",
                load=entry_point.load,
            )
        )
    return entries
