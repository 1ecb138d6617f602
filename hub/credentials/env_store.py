"""A read-only credential backend over ``SECODA_HUB_CRED__*`` variables.

Whatever backend is selected, these variables override its values when a run
or ``hub credentials test`` resolves credentials. Selecting this backend with
``--backend env`` shows what the environment alone supplies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hub.credentials.backend import CredentialBackend, Values
from hub.credentials.values import ENV_PREFIX, env_values


class EnvironmentStore(CredentialBackend):
    """The values set in ``SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD>``."""

    name = "env"
    read_only = True

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = environ

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    @property
    def location(self) -> str:
        return f"environment variables {ENV_PREFIX}*"

    def get(self, connector: str, profile: str) -> Values:
        return env_values(connector, profile, self.environ)

    def all(self) -> dict[str, dict[str, Values]]:
        found: dict[str, dict[str, Values]] = {}
        for key, value in self.environ.items():
            parts = (
                key[len(ENV_PREFIX) :].split("__") if key.startswith(ENV_PREFIX) else []
            )
            # NOTE: names are upper-cased with non-word characters turned into
            # "_", so a connector whose name contains "__" or "-" cannot be
            # distinguished here; such variables are skipped.
            if len(parts) != 3 or not all(parts):
                continue
            connector, profile, field = (part.lower() for part in parts)
            found.setdefault(connector, {}).setdefault(profile, {})[field] = value
        return found

    def allowed_hosts(self, connector: str, profile: str) -> list[str]:
        return []
