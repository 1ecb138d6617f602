"""The credentials one connector run receives."""

from __future__ import annotations

from collections.abc import Sequence

from hub.credentials.backend import CredentialBackend
from hub.credentials.selection import open_backend
from hub.credentials.values import RunCredentials, resolve, secret_field_names
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
    and come from :meth:`CredentialBackend.allowed_hosts`.
    """
    backend = open_backend() if backend is None else backend
    stored = backend.get(connector, profile)
    values = resolve(connector, profile, fields, stored)

    secret_names = secret_field_names(fields, values)
    for name in secret_names:
        redactor.add(values[name])
    return RunCredentials(values, secret_names)


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
