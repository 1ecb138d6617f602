"""The registry document: pydantic models of ``registry.json``.

``docs/registry.schema.json`` is generated from :class:`Registry` with
``hub registry schema``; a test checks that the committed file matches.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.errors import ConfigurationError

SCHEMA_VERSION = 1

SHA256_PATTERN = r"^[0-9a-f]{64}$"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


def version_problem(value: str) -> str | None:
    """Describe why ``value`` is not a PEP 440 version, or return None."""
    try:
        Version(value)
    except InvalidVersion:
        return f"version {value!r} is not a PEP 440 version, such as 1.0.2"
    return None


class Status(str, Enum):
    """The review state of one published version."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    REJECTED = "rejected"
    YANKED = "yanked"


class Strict(BaseModel):
    """A model that rejects unknown keys, so a typo in the file is reported."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class CredentialFieldSpec(Strict):
    """One credential field a connector reads from ``self.credentials``."""

    name: str
    required: bool = True
    secret: bool = False


class WheelSource(Strict):
    """Where a version's wheel is: exactly one of index, url or path."""

    index: str | None = Field(
        default=None,
        description="Package index URL to `pip download` the distribution from.",
    )
    url: str | None = Field(default=None, description="Direct URL of the wheel.")
    path: str | None = Field(
        default=None,
        description="Path of the wheel, relative to the registry file.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> WheelSource:
        given = [key for key in ("index", "url", "path") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError(
                f"a wheel source needs exactly one of index, url or path, got {given}"
            )
        return self


class ConnectorVersion(Strict):
    """One version of a connector and its review state."""

    version: str
    sha256: str = Field(pattern=SHA256_PATTERN)
    wheel: WheelSource
    requires_python: str = ">=3.11"
    requires_hub: str = ">=0.1"
    published_at: datetime
    status: Status = Status.IN_REVIEW
    review_reason: str | None = None

    @field_validator("version")
    @classmethod
    def _pep440(cls, value: str) -> str:
        problem = version_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("requires_python", "requires_hub")
    @classmethod
    def _specifier(cls, value: str) -> str:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(
                f"{value!r} is not a version specifier, such as >=3.11"
            ) from None
        return value

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)


class RegistryConnector(Strict):
    """One connector of the marketplace, with every version ever submitted."""

    name: str = Field(pattern=NAME_PATTERN)
    title: str
    description: str
    category: str
    icon: str | None = None
    distribution: str
    homepage: str | None = None
    repository: str | None = None
    license: str
    maintainers: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    credential_fields: list[CredentialFieldSpec] = Field(default_factory=list)
    allowed_hosts: list[str] = Field(default_factory=list)
    versions: list[ConnectorVersion] = Field(default_factory=list)

    def find_version(self, version: str) -> ConnectorVersion | None:
        """Return the version equal to ``version`` under PEP 440, or None.

        Raises :class:`ConfigurationError` when ``version`` is not a PEP 440
        version, because no registry entry can match it.
        """
        problem = version_problem(version)
        if problem is not None:
            raise ConfigurationError(problem)
        wanted = Version(version)
        for candidate in self.versions:
            if candidate.parsed_version == wanted:
                return candidate
        return None

    def latest(self, *, include_unreviewed: bool = False) -> ConnectorVersion | None:
        """Return the highest published version (or any, on request)."""
        usable = [
            candidate
            for candidate in self.versions
            if candidate.status is Status.PUBLISHED
            or (include_unreviewed and candidate.status is not Status.YANKED)
        ]
        return max(usable, key=lambda item: item.parsed_version, default=None)


class Registry(Strict):
    """The whole ``registry.json`` document."""

    schema_version: int = SCHEMA_VERSION
    connectors: list[RegistryConnector] = Field(default_factory=list)

    def get(self, name: str) -> RegistryConnector | None:
        for connector in self.connectors:
            if connector.name == name:
                return connector
        return None

    def sorted(self) -> Registry:
        """Return a copy with connectors by name and versions by PEP 440 order."""
        connectors = [
            connector.model_copy(
                update={
                    "versions": sorted(
                        connector.versions, key=lambda item: item.parsed_version
                    )
                }
            )
            for connector in sorted(self.connectors, key=lambda item: item.name)
        ]
        return self.model_copy(update={"connectors": connectors})


def distribution_for(name: str) -> str:
    """Return the distribution name a connector called ``name`` must use."""
    return "secoda-connector-" + name.replace("_", "-")


def normalize_distribution(name: str) -> str:
    """Normalize a distribution name as PEP 503 does."""
    return re.sub(r"[-_.]+", "-", name).lower()
