"""The credentials one connector run receives."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from hub.credentials.backend import CredentialBackend
from hub.credentials.encryption import KEY_ENV
from hub.credentials.selection import open_backend
from hub.credentials.values import (
    ENV_PREFIX,
    RunCredentials,
    env_name,
    resolve,
    secret_field_names,
)
from hub.redaction import Redactor
from hub.sdk.fields import CredentialField


def load_run_credentials(
    connector: str,
    profile: str,
    fields: Sequence[CredentialField],
    redactor: Redactor,
    backend: CredentialBackend | None = None,
) -> RunCredentials:
    """Return one profile's resolved values, adding each secret to ``redactor``.

    The result is a plain ``dict`` subclass whose ``repr`` masks secrets; the
    connector receives it and never the backend. Allowed hosts stay out of it
    and come from :meth:`CredentialBackend.allowed_hosts`. The secrets that
    the process environment carries for other profiles are added to
    ``redactor`` too, see :func:`environment_secrets`.
    """
    backend = open_backend() if backend is None else backend
    stored = backend.get(connector, profile)
    for secret in environment_secrets(connector, profile):
        redactor.add(secret)
    values = resolve(connector, profile, fields, stored)

    secret_names = secret_field_names(fields, values)
    for name in secret_names:
        redactor.add(values[name])
    return RunCredentials(values, secret_names)


def environment_secrets(
    connector: str, profile: str, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Return the secrets in this process's environment that a run must not show.

    A connector can read ``os.environ``, so a connector that logs it would
    show the values of every ``SECODA_HUB_CRED__`` variable and the
    encryption key. Variables of other connectors and profiles all count as
    secret, because their declared fields are not loaded. The run's own
    variables are left to its declared fields, so a non-secret value such as
    a base URL stays readable.
    """
    environ = os.environ if environ is None else environ
    own_prefix = env_name(connector, profile, "")
    secrets = [environ[KEY_ENV]] if environ.get(KEY_ENV) else []
    secrets += [
        value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and not key.startswith(own_prefix)
    ]
    return secrets


def allowed_hosts(
    connector: str, profile: str, backend: CredentialBackend | None = None
) -> list[str]:
    """Return the hosts the user allows for one profile of ``connector``."""
    backend = open_backend() if backend is None else backend
    return backend.allowed_hosts(connector, profile)


def network_allowlist(
    declared: Sequence[str],
    connector: str,
    profile: str,
    backend: CredentialBackend | None = None,
) -> list[str]:
    """Return the hosts a run of one profile may call.

    These are the hosts the connector class declares, then those the user
    allows for the profile. A connector that declares none and a profile
    that allows none give an empty list, which rejects every request.
    """
    return [*declared, *allowed_hosts(connector, profile, backend)]
