"""The shared credential store and the values one run receives.

A backend keeps ``{connector: {profile: {field: value}}}`` plus the hosts the
user allows each profile to call. The file backend is the default; the
keyring and environment backends ship too, and a plugin adds another through
the ``hub_open_credential_backend`` hook. ``SECODA_HUB_CREDENTIAL_BACKEND``
or ``--backend`` selects one. Environment variables
``SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD>`` override every backend.
"""

from hub.credentials.backend import CredentialBackend
from hub.credentials.env_store import EnvironmentStore
from hub.credentials.file_store import FORMAT_VERSION, STORE_FILE, CredentialStore
from hub.credentials.run_values import (
    allowed_hosts,
    load_run_credentials,
    network_allowlist,
)
from hub.credentials.selection import (
    BACKEND_ENV,
    DEFAULT_BACKEND,
    open_backend,
    selected_backend_name,
)
from hub.credentials.values import (
    DEFAULT_PROFILE,
    ENV_PREFIX,
    MASK,
    RunCredentials,
    Values,
    env_name,
    env_values,
    masked,
    resolve,
    secret_field_names,
)

__all__ = [
    "BACKEND_ENV",
    "DEFAULT_BACKEND",
    "DEFAULT_PROFILE",
    "ENV_PREFIX",
    "FORMAT_VERSION",
    "MASK",
    "STORE_FILE",
    "CredentialBackend",
    "CredentialStore",
    "EnvironmentStore",
    "RunCredentials",
    "Values",
    "allowed_hosts",
    "env_name",
    "env_values",
    "load_run_credentials",
    "masked",
    "network_allowlist",
    "open_backend",
    "resolve",
    "secret_field_names",
    "selected_backend_name",
]
