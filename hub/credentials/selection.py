"""Choosing the credential backend a command reads and writes."""

from __future__ import annotations

import os
from collections.abc import Mapping

from hub.credentials.backend import CredentialBackend
from hub.errors import CredentialStoreError

BACKEND_ENV = "SECODA_HUB_CREDENTIAL_BACKEND"
DEFAULT_BACKEND = "file"


def selected_backend_name(
    requested: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """Return ``requested``, else ``SECODA_HUB_CREDENTIAL_BACKEND``, else file."""
    environ = os.environ if environ is None else environ
    name = requested or environ.get(BACKEND_ENV, "").strip() or DEFAULT_BACKEND
    return name.lower()


def open_backend(requested: str | None = None) -> CredentialBackend:
    """Open the selected backend through the plugin that provides it."""
    from hub.paths import config_dir
    from hub.plugins import get_plugin_manager

    name = selected_backend_name(requested)
    hook = get_plugin_manager().hook
    backend = hook.hub_open_credential_backend(name=name, config_dir=config_dir())
    if backend is None:
        offered = sorted(
            {found for names in hook.hub_list_credential_backends() for found in names}
        )
        raise CredentialStoreError(
            f"no credential backend is named {name!r} (available: "
            f"{', '.join(offered) or 'none'}); choose one with --backend or "
            f"{BACKEND_ENV}"
        )
    return backend
