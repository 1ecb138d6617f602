"""Cluvio connector for the Secoda hub."""

from secoda_connector_cluvio.connector import CluvioIntegration

__all__ = ["CluvioIntegration"]
