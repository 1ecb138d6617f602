"""Reading credential values from arguments, standard input and variables.

No error here quotes a value, because any value may be a secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from hub.credentials.values import Values, env_name, env_values
from hub.errors import ConfigurationError
from hub.sdk.fields import CredentialField


def parse_assignments(
    assignments: Sequence[str], field_names: Sequence[str] = ()
) -> Values:
    """Split ``FIELD=VALUE`` arguments at the first ``=``.

    An argument without ``=`` is quoted in the error only when it is one of
    ``field_names``, because a secret pasted without its field name must not
    be echoed.
    """
    values = {}
    for position, assignment in enumerate(assignments, start=1):
        field, equals, value = assignment.partition("=")
        if not equals or not field:
            named = not equals and assignment in field_names
            quoted = (
                repr(assignment) if named else f"argument {position} after CONNECTOR"
            )
            raise ConfigurationError(
                f"{quoted} is not FIELD=VALUE; write it as, for example, "
                "email=me@example.com"
            )
        values[field] = value
    return values


def parse_stdin(text: str) -> Values:
    """Parse a JSON object, or ``FIELD=VALUE`` lines, read from standard input.

    JSON is the form for values that contain a newline. In the line form,
    blank lines and lines starting with ``#`` are skipped, and everything
    after the first ``=`` is the value, so a value keeps its ``=`` signs,
    quotes and spaces.
    """
    if text.lstrip().startswith("{"):
        return _parse_json_object(text)

    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        field, equals, value = line.partition("=")
        field = field.strip()
        if not equals or not field:
            raise ConfigurationError(
                f"line {number} of standard input is not FIELD=VALUE; give one "
                "field per line, or a JSON object for values with newlines"
            )
        values[field] = value
    return values


def _parse_json_object(text: str) -> Values:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"standard input is not a valid JSON object (line {error.lineno}, "
            f"column {error.colno}: {error.msg})"
        ) from None
    if not isinstance(document, dict):
        raise ConfigurationError("standard input is JSON but not an object")

    not_text = sorted(
        name for name, value in document.items() if not isinstance(value, str)
    )
    if not_text:
        raise ConfigurationError(
            f"standard input gives {', '.join(not_text)} as a JSON value other "
            'than a string; quote every value, as in {"port": "5432"}'
        )
    return document


def values_from_environment(
    connector: str,
    profile: str,
    fields: Sequence[CredentialField],
    environ: Mapping[str, str] | None = None,
) -> Values:
    """Read the ``SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD>`` variables.

    Declared fields are looked up by their exact variable names, and a
    variable with the profile's prefix that names no declared field is
    rejected, as ``FIELD=VALUE`` rejects an unknown field. A connector that
    declares nothing gets every variable with the profile's prefix.
    """
    environ = os.environ if environ is None else environ
    if not fields:
        return env_values(connector, profile, environ)

    prefix = env_name(connector, profile, "")
    declared = {env_name(connector, profile, f.name): f.name for f in fields}
    found = [key for key in environ if key.startswith(prefix) and key != prefix]
    unknown = sorted(key for key in found if key not in declared)
    if unknown:
        raise ConfigurationError(
            f"{', '.join(unknown)} names no credential field of {connector}; "
            f"its fields are: {', '.join(f.name for f in fields)}. Unset the "
            f"variable, or rename it to {prefix}<FIELD>"
        )
    return {declared[key]: environ[key] for key in found}


def values_from_named_variables(
    mappings: Sequence[str], environ: Mapping[str, str] | None = None
) -> Values:
    """Read ``FIELD=VARIABLE`` mappings, each field from the variable named."""
    environ = os.environ if environ is None else environ
    values = {}
    for mapping in mappings:
        field, equals, variable = mapping.partition("=")
        if not equals or not field or not variable:
            raise ConfigurationError(
                f"--env-var {mapping!r} is not FIELD=VARIABLE; write it as, for "
                "example, password=CLUVIO_PASSWORD"
            )
        if variable not in environ:
            raise ConfigurationError(
                f"environment variable {variable} (for field {field!r}) is not "
                "set; export it, or give the field another way"
            )
        values[field] = environ[variable]
    return values
