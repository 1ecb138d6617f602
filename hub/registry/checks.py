"""The checks a connector distribution must pass before publication.

Each failed check becomes a :class:`Problem` that names what is wrong and
what to change, and every check runs, so one publish attempt lists them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from hub import CONNECTOR_GROUP
from hub.registry.models import NAME_PATTERN, distribution_for
from hub.registry.wheelinfo import LoadedClass, WheelInfo

# A credential field whose name contains one of these words must be secret.
SECRET_WORDS = re.compile(r"password|passwd|token|secret|key", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One failed check: what is wrong and what to change."""

    check: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}. Fix: {self.fix}"


def connector_name(info: WheelInfo) -> str | None:
    """Return the single entry point's name, when there is exactly one."""
    if len(info.entry_points) == 1:
        return next(iter(info.entry_points))
    return None


def check_distribution(info: WheelInfo) -> list[Problem]:
    """Check the wheel's metadata: names, entry point, README, license, version."""
    problems = _check_entry_points(info)
    name = connector_name(info)
    if name is not None:
        problems += _check_names(info, name)
    problems += _check_documents(info)
    problems += _check_version(info)
    return problems


def check_class(loaded: LoadedClass) -> list[Problem]:
    """Check what the connector class declares, as loaded in a fresh environment."""
    if loaded.error:
        return [
            Problem(
                "class loads",
                f"{loaded.qualified_name} failed to import in a fresh virtual "
                f"environment: {loaded.error}",
                "include every module in the wheel and list every import in "
                "[project] dependencies",
            )
        ]
    if not loaded.is_integration:
        return [
            Problem(
                "class type",
                f"{loaded.qualified_name} is not a SecodaIntegration subclass",
                "subclass it from `from hub.sdk import SecodaIntegration`",
            )
        ]
    return _check_credentials(loaded) + _check_hosts(loaded)


def _check_entry_points(info: WheelInfo) -> list[Problem]:
    count = len(info.entry_points)
    if count == 1:
        return []
    return [
        Problem(
            "entry point",
            f"the wheel declares {count} entry points in the {CONNECTOR_GROUP} "
            "group, expected exactly one",
            f'declare one under [project.entry-points."{CONNECTOR_GROUP}"], '
            'such as `myname = "secoda_connector_myname:MyIntegration"`',
        )
    ]


def _check_names(info: WheelInfo, name: str) -> list[Problem]:
    if not re.match(NAME_PATTERN, name):
        return [
            Problem(
                "connector name",
                f"entry point name {name!r} is not lower case letters, digits "
                "and underscores starting with a letter",
                "rename the entry point, for example to `my_tool`",
            )
        ]
    expected = distribution_for(name)
    if canonicalize_name(info.name) == canonicalize_name(expected):
        return []
    return [
        Problem(
            "distribution name",
            f"distribution {info.name!r} does not match connector {name!r}",
            f"set [project] name = {expected!r}",
        )
    ]


def _check_documents(info: WheelInfo) -> list[Problem]:
    problems = []
    if not info.readme.strip():
        problems.append(
            Problem(
                "readme",
                "the wheel carries no README (empty long description)",
                'add README.md and set [project] readme = "README.md"',
            )
        )
    if not info.license_files and not info.license:
        problems.append(
            Problem(
                "license",
                "the wheel carries no license file and no license expression",
                'add a LICENSE file and set [project] license = "MIT" (or yours)',
            )
        )
    return problems


def _check_version(info: WheelInfo) -> list[Problem]:
    try:
        Version(info.version)
    except InvalidVersion:
        return [
            Problem(
                "version",
                f"version {info.version!r} is not a PEP 440 version",
                'set [project] version to a version such as "1.0.0"',
            )
        ]
    return []


def _check_credentials(loaded: LoadedClass) -> list[Problem]:
    if not loaded.credential_fields:
        return [
            Problem(
                "credential fields",
                f"{loaded.qualified_name} declares no credential_fields",
                "declare every key the connector reads from self.credentials "
                "as a hub.sdk.CredentialField",
            )
        ]
    return [
        Problem(
            "secret field",
            f"credential field {field['name']!r} looks secret but is not marked secret",
            f'declare it as CredentialField("{field["name"]}", secret=True)',
        )
        for field in loaded.credential_fields
        if SECRET_WORDS.search(field["name"]) and not field["secret"]
    ]


def _check_hosts(loaded: LoadedClass) -> list[Problem]:
    if loaded.allowed_hosts:
        return []
    return [
        Problem(
            "allowed hosts",
            f"{loaded.qualified_name} declares no allowed_hosts",
            'list the API hosts it calls, e.g. allowed_hosts = ("api.example.com",)',
        )
    ]
