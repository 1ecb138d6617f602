"""Cluvio connector for the Secoda hub.

The connector class is imported on first use, so the local test server in
:mod:`secoda_connector_cluvio.testserver` runs on the standard library alone.
"""

__all__ = ["CluvioIntegration"]


def __getattr__(name: str):
    if name == "CluvioIntegration":
        from secoda_connector_cluvio.connector import CluvioIntegration

        return CluvioIntegration
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
