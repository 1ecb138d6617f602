"""The connector marketplace: registry files, publishing and installing.

A registry is a JSON document (``registry.json``) listing connectors and
their versions, each with the sha256 of its wheel and a review status.
"""

from hub.registry.document import (
    dump_registry,
    parse_registry,
    read_registry_file,
    write_registry_file,
)
from hub.registry.models import (
    SCHEMA_VERSION,
    ConnectorVersion,
    CredentialFieldSpec,
    Registry,
    RegistryConnector,
    Status,
    WheelSource,
)
from hub.registry.sources import (
    LoadedRegistry,
    Resolved,
    configured_locations,
    load_registries,
    load_registry,
)

__all__ = [
    "SCHEMA_VERSION",
    "ConnectorVersion",
    "CredentialFieldSpec",
    "LoadedRegistry",
    "Registry",
    "RegistryConnector",
    "Resolved",
    "Status",
    "WheelSource",
    "configured_locations",
    "dump_registry",
    "load_registries",
    "load_registry",
    "parse_registry",
    "read_registry_file",
    "write_registry_file",
]


def schema_document() -> dict:
    """Return the JSON Schema of ``registry.json``."""
    return Registry.model_json_schema()
