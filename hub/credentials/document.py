"""The shapes of stored credential documents, checked whole on every read.

The models are strict: a number where a string belongs, or a string where a
list belongs, is an error and is never converted. A failed check becomes a
:class:`CredentialStoreError` that names the source, the JSON path of each
bad value and its type, never the value itself, because it may be a secret.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from hub.credentials.hosts import normalize_host
from hub.errors import ConfigurationError, CredentialStoreError

FORMAT_VERSION = 1

# Errors beyond this many are counted, not listed, so the message stays short.
MAX_LISTED_PROBLEMS = 5

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _valid_host(value: str) -> str:
    try:
        return normalize_host(value)
    except ConfigurationError as error:
        raise ValueError(str(error)) from None


HostName = Annotated[str, AfterValidator(_valid_host)]
Values = dict[str, str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StoreDocument(_Strict):
    """The plain JSON form of ``credentials.json``."""

    format: Literal[1]
    connectors: dict[str, dict[str, Values]] = Field(default_factory=dict)
    allowed_hosts: dict[str, dict[str, list[HostName]]] = Field(default_factory=dict)


class EncryptedDocument(_Strict):
    """The encrypted form of ``credentials.json``: one Fernet token."""

    format: Literal[1]
    encrypted: str


class KeyringIndexEntry(_Strict):
    """One profile's entry in the keyring index."""

    allowed_hosts: list[HostName] = Field(default_factory=list)


STORE_LAYOUT = (
    '{"format": 1, "connectors": {"<connector>": {"<profile>": {"<field>": '
    '"<value>"}}}, "allowed_hosts": {"<connector>": {"<profile>": ["<host>"]}}}'
)
STORE = TypeAdapter(StoreDocument)
ENCRYPTED_STORE = TypeAdapter(EncryptedDocument)
KEYRING_INDEX = TypeAdapter(
    dict[str, dict[str, KeyringIndexEntry]], config=ConfigDict(strict=True)
)
KEYRING_ITEM = TypeAdapter(Values, config=ConfigDict(strict=True))


def validate_document(shape: TypeAdapter, data: object, source: str, fix: str):
    """Validate ``data`` against ``shape``, raising :class:`CredentialStoreError`.

    ``source`` names the file or keyring item in the message, and ``fix`` is
    the sentence that tells the user the next step.
    """
    try:
        return shape.validate_python(data)
    except pydantic.ValidationError as error:
        raise CredentialStoreError(_shape_message(error, source, fix)) from None


def _shape_message(error: pydantic.ValidationError, source: str, fix: str) -> str:
    problems = [_describe(item) for item in error.errors(include_url=False)]
    listed = problems[:MAX_LISTED_PROBLEMS]
    more = len(problems) - len(listed)
    if more:
        listed.append(f"and {more} more problems")
    return f"{source} has an invalid layout: {'; '.join(listed)}. {fix}"


def _describe(item: dict) -> str:
    path = json_path(item["loc"])
    kind = item["type"]
    if kind == "missing":
        return f"{path} is missing"
    if kind == "extra_forbidden":
        return f"{path} is not a known key"
    if kind == "value_error":
        return f"{path}: {item['ctx']['error']}"
    if kind == "literal_error":
        return f"{path} must be {item['ctx']['expected']}"
    expected = {
        "dict_type": "an object",
        "model_type": "an object",
        "list_type": "a list",
        "string_type": "a string",
    }.get(kind)
    if expected is None:
        expected = item["msg"]
    # The input is described by its JSON type only: it may be a secret.
    return f"{path} is {json_type(item['input'])}, expected {expected}"


def json_path(location: tuple) -> str:
    """Render a pydantic error location as a JSONPath such as ``$.a["b c"][0]``."""
    path = "$"
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part, ensure_ascii=False)}]"
    return path


def json_type(value: object) -> str:
    """Name the JSON type of a parsed value, with its article."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
