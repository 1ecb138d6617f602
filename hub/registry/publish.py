"""Publishing a connector into a registry file, and reviewing its versions."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from hub.errors import ConfigurationError, PublishError, RegistryError
from hub.registry.build import build_distribution, file_sha256
from hub.registry.checks import Problem, check_class, check_distribution
from hub.registry.checks import connector_name as entry_point_name
from hub.registry.document import (
    read_registry_file,
    write_atomically,
    write_registry_file,
)
from hub.registry.models import (
    ConnectorVersion,
    CredentialFieldSpec,
    Registry,
    RegistryConnector,
    Status,
    WheelSource,
)
from hub.registry.wheelinfo import LoadedClass, WheelInfo, load_in_fresh_environment
from hub.registry.wheelinfo import read_wheel as read_wheel_info

logger = logging.getLogger(__name__)

WHEEL_FOLDER = "wheels"

# The pyproject.toml table that contains a connector's marketplace listing, in
# the [tool.NAME] namespace that PEP 518 reserves for tools.
LISTING_TABLE = "secoda-hub"
LISTING_KEYS = ("title",)


@dataclass(frozen=True)
class Listing:
    """Marketplace fields that package metadata does not carry."""

    title: str | None = None
    category: str = "uncategorized"
    icon: str | None = None
    tags: tuple[str, ...] = ("community",)


@dataclass
class PublishResult:
    """What one publish did."""

    name: str
    version: str
    sha256: str
    outcome: str  # "added", "unchanged" or "validated"
    wheel_path: Path | None = None
    problems: list[Problem] = field(default_factory=list)


def publish(
    source: Path,
    registry_path: Path,
    *,
    dry_run: bool = False,
    listing: Listing = Listing(),
    pip_options: tuple[str, ...] = (),
) -> PublishResult:
    """Build, check and add the connector in ``source`` as ``in_review``.

    A title that ``listing`` does not give comes from the project's
    ``[tool.secoda-hub]`` table, else from the connector's name.
    """
    registry = _read_or_empty(registry_path)
    if listing.title is None:
        listing = dataclasses.replace(listing, title=declared_title(source))
    with tempfile.TemporaryDirectory(prefix="hub-publish-") as scratch:
        built = build_distribution(source.resolve(), Path(scratch), pip_options)
        info = read_wheel_info(built.wheel)
        loaded = _load_class(info, built.wheel)
        sha256 = built.sha256

        name = entry_point_name(info) or info.name
        existing = registry.get(name)
        held = existing.find_version(info.version) if existing else None
        if held is not None and held.sha256 == sha256:
            return PublishResult(name, info.version, sha256, "unchanged")

        problems = check_distribution(info)
        if loaded is not None:
            problems += check_class(loaded)
        if held is not None:
            problems.append(_republish_problem(name, info.version, held, sha256))
        if problems:
            raise PublishError(_describe_problems(name, info.version, problems))
        if dry_run:
            return PublishResult(name, info.version, sha256, "validated")

        wheel_target = registry_path.parent / WHEEL_FOLDER / built.wheel.name
        updated = _with_version(registry, info, loaded, listing, wheel_target, sha256)
        _store(built.wheel, wheel_target, registry_path, updated)

    logger.info("published %s %s as in_review", name, info.version)
    return PublishResult(name, info.version, sha256, "added", wheel_target)


def review(
    registry_path: Path, name: str, version: str, *, approve: bool, reason: str
) -> ConnectorVersion:
    """Publish (``approve``) or reject one version that awaits review."""
    registry = read_registry_file(registry_path)
    entry = _find_version(registry, registry_path, name, version)
    if entry.status is Status.YANKED:
        raise RegistryError(
            f"{name} {version} is yanked; publish a new version instead of "
            "reviewing this one"
        )
    entry.status = Status.PUBLISHED if approve else Status.REJECTED
    entry.review_reason = reason
    write_registry_file(registry_path, registry)
    return entry


def yank(registry_path: Path, name: str, version: str, *, reason: str):
    """Mark one version yanked, so it no longer installs by default."""
    registry = read_registry_file(registry_path)
    entry = _find_version(registry, registry_path, name, version)
    entry.status = Status.YANKED
    entry.review_reason = reason
    write_registry_file(registry_path, registry)
    return entry


def declared_title(source: Path) -> str | None:
    """Return ``title`` from the ``[tool.secoda-hub]`` table of the project.

    Returns None when the project has no pyproject.toml, no such table or
    no title in it; raises :class:`ConfigurationError` for an invalid one.
    """
    pyproject = source / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{pyproject} is not valid TOML: {error}") from error

    table = document.get("tool", {}).get(LISTING_TABLE, {})
    where = f"[tool.{LISTING_TABLE}] in {pyproject}"
    unknown = sorted(set(table) - set(LISTING_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown key(s) {', '.join(unknown)}; the keys it may "
            f"hold are: {', '.join(LISTING_KEYS)}"
        )
    title = table.get("title")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise ConfigurationError(
            f"{where} sets title = {title!r}; set it to the name users see in "
            'the marketplace, such as title = "Acme BI"'
        )
    return title


def _read_or_empty(registry_path: Path) -> Registry:
    if registry_path.exists():
        return read_registry_file(registry_path)
    logger.info("registry %s does not exist yet; starting an empty one", registry_path)
    return Registry()


def _load_class(info: WheelInfo, wheel: Path) -> LoadedClass | None:
    if len(info.entry_points) != 1:
        # The entry point check reports this; there is no single class to load.
        return None
    target = next(iter(info.entry_points.values()))
    return load_in_fresh_environment(wheel, target)


def _republish_problem(name, version, held: ConnectorVersion, sha256) -> Problem:
    return Problem(
        "version",
        f"the registry already holds {name} {version} with sha256 "
        f"{held.sha256}, but this build has sha256 {sha256}",
        "raise [project] version; a published version never changes its bytes",
    )


def _describe_problems(name: str, version: str, problems: list[Problem]) -> str:
    lines = [f"{name} {version} failed {len(problems)} publication check(s):"]
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)


def _with_version(registry, info, loaded, listing, wheel_target, sha256) -> Registry:
    updated = registry.model_copy(deep=True)
    name = entry_point_name(info)
    connector = updated.get(name)
    if connector is None:
        connector = _new_connector(name, info, listing)
        updated.connectors.append(connector)

    # Each version may change what it reads and calls, so the newest wins.
    connector.credential_fields = [
        CredentialFieldSpec(**item) for item in loaded.credential_fields
    ]
    connector.allowed_hosts = list(loaded.allowed_hosts)
    connector.versions.append(
        ConnectorVersion(
            version=info.version,
            sha256=sha256,
            wheel=WheelSource(path=f"{WHEEL_FOLDER}/{wheel_target.name}"),
            requires_python=info.requires_python or ">=3.11",
            requires_hub=_hub_requirement(info),
            published_at=datetime.now(timezone.utc).replace(microsecond=0),
            status=Status.IN_REVIEW,
        )
    )
    return updated


def _new_connector(name: str, info: WheelInfo, listing: Listing) -> RegistryConnector:
    urls = info.project_urls()
    return RegistryConnector(
        name=name,
        title=listing.title or name.replace("_", " ").title(),
        description=info.summary,
        category=listing.category,
        icon=listing.icon,
        distribution=info.name,
        homepage=urls.get("homepage"),
        repository=urls.get("repository") or urls.get("source"),
        license=info.license or "see the license file in the wheel",
        maintainers=info.authors(),
        tags=sorted(set(listing.tags)),
    )


def _hub_requirement(info: WheelInfo) -> str:
    from packaging.requirements import Requirement

    for text in info.metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        if requirement.name == "secoda-hub" and str(requirement.specifier):
            return str(requirement.specifier)
    return ">=0.1"


def _store(wheel: Path, target: Path, registry_path: Path, registry) -> None:
    created = not target.exists()
    if not created and file_sha256(target) != file_sha256(wheel):
        raise PublishError(
            f"{target} already exists with other bytes; remove it or raise "
            "the connector's version"
        )
    if created:
        write_atomically(target, wheel.read_bytes())
    try:
        write_registry_file(registry_path, registry)
    except BaseException:
        # Leave no wheel that the unchanged registry does not point to.
        if created:
            target.unlink(missing_ok=True)
        raise


def _find_version(registry, registry_path, name, version) -> ConnectorVersion:
    connector = registry.get(name)
    if connector is None:
        raise RegistryError(
            f"registry {registry_path} has no connector named {name!r}; "
            "list them with `hub registry list`"
        )
    entry = connector.find_version(version)
    if entry is None:
        held = ", ".join(item.version for item in connector.versions) or "none"
        raise RegistryError(
            f"registry {registry_path} has no version {version!r} of {name} "
            f"(versions: {held})"
        )
    return entry
