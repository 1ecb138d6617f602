"""Secoda hub: install, discover and run metadata connectors.

The connector SDK lives in :mod:`hub.sdk`. This package exports only light
names so that ``hub --help`` and ``hub list`` start quickly.
"""

__version__ = "0.1.0"

CONNECTOR_GROUP = "secoda.connectors"
PLUGIN_GROUP = "secoda.hub.plugins"

__all__ = ["CONNECTOR_GROUP", "PLUGIN_GROUP", "__version__"]
