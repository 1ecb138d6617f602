"""Hook specifications: the extension points of the hub.

The hub's own parts (entry-point discovery, the SQLite catalog, the JSONL
output and the file, keyring and environment credential backends) implement
these hooks in
:mod:`hub.builtin`, and a plugin distribution registered under the
``secoda.hub.plugins`` entry-point group can implement any of them too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from hub.catalog import Catalog
    from hub.connectors import ConnectorEntry
    from hub.credentials import CredentialBackend
    from hub.sinks import RunSink

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


@hookspec
def hub_discover_connectors() -> list[ConnectorEntry]:
    """List the connectors this plugin provides, without importing them.

    Called by ``hub list``, ``hub run`` and every command that looks a
    connector up by name. Implementations must read metadata only: importing
    connector code here would make listing slow and let one broken connector
    break the listing of the others.

    :return: the connectors found; an empty list when there are none. A name
        that two entries share, from one plugin or several, is a conflict:
        ``hub list`` shows every entry of it, and the commands that run or
        import a connector reject the name until one entry is uninstalled or
        blocked.
    """


@hookspec(firstresult=True)
def hub_open_catalog(location: str, read_only: bool) -> Catalog | None:
    """Open the catalog that a run writes into and queries read from.

    ``firstresult`` because exactly one catalog serves a command: the first
    plugin that recognises the location opens it.

    :param location: a file path or a database URL, as given with
        ``--catalog`` or ``SECODA_HUB_CATALOG``.
    :param read_only: true for a command that only reads, such as ``hub
        runs``. The catalog must then be opened without creating or
        migrating anything: raise :class:`hub.errors.CatalogNotFoundError`
        for a missing file or an empty database, and
        :class:`hub.errors.CatalogOutdatedError` for an older schema.
    :return: an open catalog, or ``None`` when this plugin does not handle
        that kind of location.
    """


@hookspec
def hub_open_outputs(output_dir: Path | None) -> list[RunSink] | None:
    """Open extra outputs that receive every model of a run as it is declared.

    Called once at the start of each run. Each sink is committed when the run
    succeeds and aborted when it fails, so a failed run leaves no partial
    files behind.

    :param output_dir: the directory given with ``hub run --output``, or
        ``None`` when the user asked for none.
    :return: the sinks to feed, or ``None`` for none.
    """


@hookspec
def hub_list_credential_backends() -> list[str]:
    """Name the credential backends this plugin can open.

    Used to list the choices when ``--backend`` or
    ``SECODA_HUB_CREDENTIAL_BACKEND`` names no backend that any plugin opens.

    :return: the backend names, such as ``["keyring"]``; an empty list for
        none. Opening must stay cheap to name: list a backend even when its
        library is missing, and let :func:`hub_open_credential_backend`
        explain what to install.
    """


@hookspec(firstresult=True)
def hub_open_credential_backend(
    name: str, config_dir: Path
) -> CredentialBackend | None:
    """Open the credential backend called ``name``.

    ``firstresult`` because one backend serves a command: the first plugin
    that provides the name opens it, so a plugin registered before the
    built-in ones can replace a built-in backend.

    Implementations import their client library here, not at module level,
    so ``hub --help`` and ``hub list`` never load it. A backend that exists
    but cannot work on this machine (no keyring daemon, no network route to a
    vault) raises :class:`hub.errors.CredentialStoreError` naming the
    alternatives, and never falls back to another backend silently.

    :param name: the backend name the user selected, in lower case.
    :param config_dir: the hub's configuration directory, for backends that
        keep files such as a lock or an index there.
    :return: the opened backend, or ``None`` when this plugin provides no
        backend of that name.
    """
