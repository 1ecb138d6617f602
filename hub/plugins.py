"""The plugin manager: built-in parts first, then installed hub plugins."""

import functools
import importlib
import logging
import os
import re
from dataclasses import dataclass

import pluggy

from hub import PLUGIN_GROUP, hookspecs
from hub.entrypoints import entry_points_in

logger = logging.getLogger(__name__)

BLOCK_ENV = "SECODA_HUB_BLOCK"
NO_AUTOLOAD_ENV = "SECODA_HUB_DISABLE_PLUGIN_AUTOLOAD"

BUILTIN_PLUGINS = (
    "hub.builtin.entrypoint_connectors",
    "hub.builtin.sqlite_catalog",
    "hub.builtin.jsonl_output",
    "hub.builtin.file_credentials",
    "hub.builtin.keyring_credentials",
    "hub.builtin.env_credentials",
    "hub.builtin.postgresql_catalog",
)


@dataclass(frozen=True)
class BrokenPlugin:
    """An installed hub plugin that failed to load."""

    name: str
    distribution: str
    error: str


_broken: list[BrokenPlugin] = []


def blocked_names() -> frozenset[str]:
    """Return the items of ``SECODA_HUB_BLOCK``, a comma-separated list."""
    raw = os.environ.get(BLOCK_ENV, "")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def blocking_item(
    blocked: frozenset[str], name: str, distribution: str | None
) -> str | None:
    """Return the ``SECODA_HUB_BLOCK`` item that blocks a connector or plugin.

    An item blocks the connector or hub plugin of that exact name, and every
    connector and plugin of the distribution of that name, compared as pip
    compares names (case and runs of ``-``, ``_`` and ``.`` ignored).
    Returns None when no item blocks it.
    """
    if name in blocked:
        return name
    if distribution is None:
        return None
    normalized = canonical_distribution_name(distribution)
    for item in blocked:
        if canonical_distribution_name(item) == normalized:
            return item
    return None


def canonical_distribution_name(name: str) -> str:
    """Return a distribution name normalised as in PEP 503."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    """Build the plugin manager once per process."""
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)

    if not os.environ.get(NO_AUTOLOAD_ENV):
        _load_installed_plugins(manager)
    return manager


def broken_plugins() -> list[BrokenPlugin]:
    """Return the installed hub plugins that failed to load in this process."""
    get_plugin_manager()
    return list(_broken)


def _load_installed_plugins(manager: pluggy.PluginManager) -> None:
    blocked = blocked_names()
    for entry_point in entry_points_in(PLUGIN_GROUP):
        distribution = entry_point.dist.name if entry_point.dist else None
        if blocking_item(blocked, entry_point.name, distribution):
            logger.info("skipping blocked hub plugin %s", entry_point.name)
            continue
        try:
            manager.register(entry_point.load(), name=entry_point.name)
        except Exception as error:  # a broken plugin must not stop the hub
            distribution = distribution or "?"
            logger.warning(
                "hub plugin %s from %s failed to load: %s",
                entry_point.name,
                distribution,
                error,
            )
            _broken.append(BrokenPlugin(entry_point.name, distribution, repr(error)))
