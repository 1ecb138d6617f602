"""Resolving the values one run receives, and keeping secrets out of sight.

Environment variables override every backend:
``SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD>``, upper case, for example
``SECODA_HUB_CRED__CLUVIO__DEFAULT__PASSWORD``.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from collections.abc import Mapping, Sequence

from hub.errors import MissingCredentialsError
from hub.sdk.fields import CredentialField

logger = logging.getLogger(__name__)

DEFAULT_PROFILE = "default"
ENV_PREFIX = "SECODA_HUB_CRED__"
MASK = "********"

# The shape of a profile name, and of a field name that an error may quote.
# Text of another shape may be part of a pasted secret, and would need
# quoting in a suggested command.
PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PLAIN_NAME_RULE = "1 to 64 ASCII letters, digits, '_', '-' or '.'"

Values = dict[str, str]


class RunCredentials(dict):
    """The plain dict of one profile's values that a connector receives.

    ``repr`` and ``str`` mask the secret fields, so a connector that logs or
    formats ``self.credentials`` shows no secret.
    """

    def __init__(self, values: Mapping[str, str], secret_names: set[str]):
        super().__init__(values)
        self._secret_names = frozenset(secret_names)

    @property
    def secret_names(self) -> frozenset[str]:
        """The fields whose values are secret."""
        return self._secret_names

    def __repr__(self) -> str:
        shown = {
            name: MASK if name in self._secret_names else value
            for name, value in self.items()
        }
        return repr(shown)

    __str__ = __repr__


def is_plain_name(text: str) -> bool:
    """Return whether ``text`` has the shape of a field or profile name."""
    return PLAIN_NAME.fullmatch(text) is not None


def env_name(connector: str, profile: str, field: str) -> str:
    """Return the environment variable that overrides one stored field."""
    parts = (connector, profile, field)
    return ENV_PREFIX + "__".join(re.sub(r"\W", "_", part).upper() for part in parts)


def env_values(
    connector: str, profile: str, environ: Mapping[str, str] | None = None
) -> Values:
    """Collect the fields set for one connector profile in the environment."""
    environ = os.environ if environ is None else environ
    prefix = env_name(connector, profile, "")
    return {
        key[len(prefix) :].lower(): value
        for key, value in environ.items()
        if key.startswith(prefix) and len(key) > len(prefix)
    }


def resolve(
    connector: str,
    profile: str,
    fields: Sequence[CredentialField],
    stored: Values,
    environ: Mapping[str, str] | None = None,
) -> Values:
    """Merge stored values, environment overrides and declared defaults.

    Raises :class:`MissingCredentialsError` naming every required field that
    is still unset, with the command that stores them.
    """
    overrides = env_values(connector, profile, environ)
    _warn_undeclared(connector, profile, fields, overrides)
    values = {**stored, **overrides}
    for declared in fields:
        if declared.name not in values and declared.default is not None:
            values[declared.name] = declared.default

    missing = [f.name for f in fields if f.required and not values.get(f.name)]
    if missing:
        raise MissingCredentialsError(
            _missing_message(connector, profile, fields, missing), missing
        )
    return values


def _warn_undeclared(
    connector: str,
    profile: str,
    fields: Sequence[CredentialField],
    overrides: Mapping[str, str],
) -> None:
    """Warn about each variable that sets a field the connector does not declare.

    Such a value still reaches the connector, because the variable may
    belong to a profile whose name extends this one (``eu`` and ``eu__x``
    share a prefix). Most often the field name is misspelt, and the
    connector then silently uses the stored value instead.
    """
    if not fields:
        return
    declared = sorted(field.name for field in fields)
    for name in sorted(set(overrides) - set(declared)):
        logger.warning(
            "%s sets the field %r, which %s does not declare (its fields are "
            "%s); check the variable's spelling",
            env_name(connector, profile, name),
            name,
            connector,
            ", ".join(declared),
        )


def _missing_message(
    connector: str, profile: str, fields: Sequence[CredentialField], missing: list[str]
) -> str:
    profile_option = [] if profile == DEFAULT_PROFILE else ["--profile", profile]
    # The command prompts for each field, which keeps secret values out of
    # shell history, and can be pasted as it is.
    command = shlex.join(["hub", "credentials", "set", connector, *profile_option])
    return (
        f"missing credentials for {connector!r} (profile {profile!r}): "
        f"{', '.join(missing)}. Store them with `{command}`, which prompts for "
        f"each field, or set {env_name(connector, profile, missing[0])} and the "
        "like."
    )


def secret_field_names(fields: Sequence[CredentialField], values: Mapping) -> set[str]:
    """Name the fields whose values must never be shown.

    A field counts as secret unless the connector declares it as not secret,
    so the values of connectors that declare nothing are all kept hidden.
    """
    public = {f.name for f in fields if not f.secret}
    return {name for name in values if name not in public}


def masked(fields: Sequence[CredentialField], values: Mapping[str, str]) -> Values:
    """Return ``values`` with every secret replaced by a mask."""
    secret = secret_field_names(fields, values)
    return {name: MASK if name in secret else value for name, value in values.items()}
