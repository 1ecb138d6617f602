"""Reading credential values from arguments, standard input and variables.

No error here quotes a value, because any value may be a secret. A field or
variable name is quoted only when it has the shape of a name (see
:func:`~hub.credentials.values.is_plain_name`), because a secret pasted
without its field name, or in place of a variable's name, arrives where a
name is expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from hub.credentials.values import (
    PLAIN_NAME_RULE,
    Values,
    env_name,
    env_values,
    is_plain_name,
)
from hub.errors import ConfigurationError
from hub.sdk.fields import CredentialField


def parse_assignments(
    assignments: Sequence[str], field_names: Sequence[str] = ()
) -> Values:
    """Split ``FIELD=VALUE`` arguments at the first ``=``.

    An argument without ``=`` is quoted in the error only when it is one of
    ``field_names``. An argument whose text before ``=`` is neither one of
    ``field_names`` nor shaped like a name is rejected without quoting it:
    it is most likely a secret that contains ``=``.
    """
    values = {}
    for position, assignment in enumerate(assignments, start=1):
        where = f"argument {position} after CONNECTOR"
        field, equals, value = assignment.partition("=")
        if not equals or not field:
            named = not equals and assignment in field_names
            quoted = repr(assignment) if named else where
            raise ConfigurationError(
                f"{quoted} is not FIELD=VALUE; write it as, for example, "
                "email=me@example.com"
            )
        _check_field_name(field, field_names, where)
        values[field] = value
    return values


def _check_field_name(
    field: str, field_names: Sequence[str], where: str, form: str = "FIELD=VALUE"
) -> None:
    """Reject a field name that is neither declared nor plain, without quoting it.

    ``where`` names the input by position, so the message can point at it.
    """
    if field in field_names or is_plain_name(field):
        return
    if field_names:
        known = f"the connector's fields are: {', '.join(field_names)}"
    else:
        known = f"a field name is {PLAIN_NAME_RULE}"
    raise ConfigurationError(
        f"{where} is not a known {form}, and its text is not shown in case it "
        f"is part of a secret; {known}"
    )


def parse_stdin(text: str, field_names: Sequence[str] = ()) -> Values:
    """Parse a JSON object, or ``FIELD=VALUE`` lines, read from standard input.

    JSON is the form for values that contain a newline. In the line form,
    blank lines and lines starting with ``#`` are skipped, and everything
    after the first ``=`` is the value, so a value keeps its ``=`` signs,
    quotes and spaces. A field name is checked as in :func:`parse_assignments`.
    """
    if text.lstrip().startswith("{"):
        return _parse_json_object(text, field_names)

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
        _check_field_name(field, field_names, f"line {number} of standard input")
        values[field] = value
    return values


def _parse_json_object(text: str, field_names: Sequence[str]) -> Values:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"standard input is not a valid JSON object (line {error.lineno}, "
            f"column {error.colno}: {error.msg})"
        ) from None
    if not isinstance(document, dict):
        raise ConfigurationError("standard input is JSON but not an object")

    where = "a key of the JSON object on standard input"
    for name in document:
        _check_field_name(name, field_names, where)
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
        problem = f"{', '.join(unknown)} names no credential field of {connector}"
        if not all(is_plain_name(key[len(prefix) :]) for key in unknown):
            problem = (
                f"{len(unknown)} variable(s) starting with {prefix} name no "
                f"credential field of {connector} (not shown in case a name "
                "contains a secret)"
            )
        raise ConfigurationError(
            f"{problem}; "
            f"its fields are: {', '.join(f.name for f in fields)}. Unset the "
            f"variable, or rename it to {prefix}<FIELD>"
        )
    return {declared[key]: environ[key] for key in found}


def values_from_named_variables(
    mappings: Sequence[str],
    field_names: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Values:
    """Read ``FIELD=VARIABLE`` mappings, each field from the variable named.

    A field name is checked as in :func:`parse_assignments`.
    """
    environ = os.environ if environ is None else environ
    values = {}
    for position, mapping in enumerate(mappings, start=1):
        where = f"--env-var number {position}"
        field, equals, variable = mapping.partition("=")
        if not equals or not field or not variable:
            shown = f"--env-var {mapping!r}" if is_plain_name(mapping) else where
            raise ConfigurationError(
                f"{shown} is not FIELD=VARIABLE; write it as, for example, "
                "password=CLUVIO_PASSWORD"
            )
        _check_field_name(field, field_names, where, "FIELD=VARIABLE")
        if variable not in environ:
            raise ConfigurationError(_unset_variable_message(where, field, variable))
        values[field] = environ[variable]
    return values


def _unset_variable_message(where: str, field: str, variable: str) -> str:
    if not is_plain_name(variable):
        # Most likely the value itself was given in place of a variable name.
        return (
            f"{where} names an environment variable that is not set, for "
            f"field {field!r}; give the name of the variable that holds the "
            "value, not the value (the name is not shown in case it is one)"
        )
    return (
        f"environment variable {variable} (for field {field!r}) is not "
        "set; export it, or give the field another way"
    )
