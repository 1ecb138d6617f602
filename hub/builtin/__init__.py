"""The hub's own parts, registered through the plugin manager like any plugin."""
