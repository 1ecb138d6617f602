"""``hub registry validate``: the rules a registry file must follow.

Beyond the schema, connector names must be unique and no version may repeat.
Every wheel must exist with its recorded sha256: a wheel stored beside the
registry is read in place, and one behind a URL or in a package index is
downloaded. A stored wheel's path must stay inside the registry's directory,
and one that leaves it is reported without being read. First-party
connectors, whose source is in ``connectors/`` next to the registry file,
must rebuild to the recorded sha256.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections import Counter
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from hub.errors import HubError, RegistryError
from hub.registry.build import build_distribution, file_sha256
from hub.registry.document import read_registry_file
from hub.registry.install import fetch_wheel
from hub.registry.models import Registry
from hub.registry.sources import LoadedRegistry, Resolved
from hub.registry.wheelpath import stored_wheel_file


def validate_file(
    path: Path, *, rebuild: bool = True, pip_options: tuple[str, ...] = ()
) -> list[str]:
    """Return every rule ``path`` breaks; an empty list means it is valid.

    Raises :class:`RegistryError` when the file is missing, is not JSON or
    does not match the schema, because no other rule can be checked then.
    """
    registry = read_registry_file(path)
    problems = _duplicate_names(registry)
    problems += _duplicate_versions(registry)
    problems += _missing_or_changed_wheels(registry, path)
    if rebuild:
        problems += _unreproduced_builds(registry, path.parent, pip_options)
    return problems


def _duplicate_names(registry: Registry) -> list[str]:
    # Counted over the whole list, because Registry.get finds only the first
    # entry of a name.
    counts = Counter(connector.name for connector in registry.connectors)
    return [
        f"connector name {name!r} appears {count} times; merge the entries"
        for name, count in sorted(counts.items())
        if count > 1
    ]


def _duplicate_versions(registry: Registry) -> list[str]:
    problems = []
    for connector in registry.connectors:
        counts = Counter(Version(item.version) for item in connector.versions)
        problems += [
            f"{connector.name} lists version {version} {count} times; keep one"
            for version, count in sorted(counts.items())
            if count > 1
        ]
    return problems


def _missing_or_changed_wheels(registry: Registry, path: Path) -> list[str]:
    problems = []
    source = LoadedRegistry(str(path), registry)
    for connector in registry.connectors:
        for version in connector.versions:
            if version.wheel.path:
                problems += _check_stored_wheel(connector.name, version, path)
            else:
                resolved = Resolved(connector, source)
                problems += _check_remote_wheel(resolved, version)
    return problems


def _check_stored_wheel(name: str, version, registry_file: Path) -> list[str]:
    # The path is checked before anything is read, so a path that leaves the
    # registry's directory is reported without opening the file it names.
    label = f"{name} {version.version}"
    try:
        wheel = stored_wheel_file(registry_file, version.wheel.path, label)
    except RegistryError as error:
        return [str(error)]
    if not wheel.is_file():
        return [
            f"{name} {version.version}: wheel {wheel} is missing; restore it "
            "or re-publish"
        ]
    return _compare_sha256(name, version, wheel, str(wheel))


def _check_remote_wheel(resolved: Resolved, version) -> list[str]:
    """Download a URL or index wheel, as ``hub install`` would, and hash it."""
    name = resolved.connector.name
    where = version.wheel.url or f"index {version.wheel.index}"
    with tempfile.TemporaryDirectory(prefix="hub-validate-") as scratch:
        try:
            wheel = fetch_wheel(resolved, version, Path(scratch))
        except HubError as error:
            return [f"{name} {version.version}: fetching the wheel failed: {error}"]
        return _compare_sha256(name, version, wheel, where)


def _compare_sha256(name: str, version, wheel: Path, where: str) -> list[str]:
    actual = file_sha256(wheel)
    if actual == version.sha256:
        return []
    return [
        f"{name} {version.version}: {where} has sha256 {actual}, the registry "
        f"records {version.sha256}"
    ]


def first_party_sources(root: Path) -> dict[str, Path]:
    """Map each distribution under ``root/connectors`` to its source directory."""
    sources = {}
    for pyproject in sorted((root / "connectors").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project")
        if project and project.get("name"):
            sources[canonicalize_name(project["name"])] = pyproject.parent
    return sources


def _unreproduced_builds(registry: Registry, root: Path, pip_options) -> list[str]:
    sources = first_party_sources(root)
    problems = []
    for connector in registry.connectors:
        source = sources.get(canonicalize_name(connector.distribution))
        if source is not None:
            problems += _check_rebuild(connector, source, pip_options)
    return problems


def _check_rebuild(connector, source: Path, pip_options) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="hub-validate-") as scratch:
        try:
            built = build_distribution(source, Path(scratch), pip_options)
        except HubError as error:
            return [f"{connector.name}: rebuilding {source} failed: {error}"]
        version = built.wheel.name.split("-")[1]
        sha256 = built.sha256

    recorded = connector.find_version(version)
    if recorded is None:
        return [
            f"{connector.name}: the source in {source} is version {version}, "
            "which the registry does not hold; publish it with `hub publish`"
        ]
    if recorded.sha256 != sha256:
        return [
            f"{connector.name} {version}: a fresh build of {source} has sha256 "
            f"{sha256}, the registry records {recorded.sha256}; the source "
            "changed after publication, so raise its version and publish again"
        ]
    return []
