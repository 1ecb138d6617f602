"""``hub registry validate``: the rules a registry file must follow.

Beyond the schema, connector names must be unique and no version may repeat.
Every wheel stored beside the registry must exist with its recorded sha256.
First-party connectors, whose source is in ``connectors/`` next to the
registry file, must rebuild to the recorded sha256.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from collections import Counter
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from hub.errors import HubError
from hub.registry.build import build_distribution, file_sha256
from hub.registry.document import parse_registry
from hub.registry.models import Registry


def validate_file(
    path: Path, *, rebuild: bool = True, pip_options: tuple[str, ...] = ()
) -> list[str]:
    """Return every rule ``path`` breaks; an empty list means it is valid."""
    text = path.read_text(encoding="utf-8")
    registry = parse_registry(text, str(path))
    problems = _duplicate_names(json.loads(text))
    problems += _duplicate_versions(registry)
    problems += _missing_or_changed_wheels(registry, path.parent)
    if rebuild:
        problems += _unreproduced_builds(registry, path.parent, pip_options)
    return problems


def _duplicate_names(raw: dict) -> list[str]:
    # Counted on the raw document because lookups would hide a second entry.
    counts = Counter(item.get("name") for item in raw.get("connectors", []))
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


def _missing_or_changed_wheels(registry: Registry, root: Path) -> list[str]:
    problems = []
    for connector in registry.connectors:
        for version in connector.versions:
            if not version.wheel.path:
                # TODO: URL and index wheels are not downloaded here.
                continue
            wheel = root / version.wheel.path
            if not wheel.is_file():
                problems.append(
                    f"{connector.name} {version.version}: wheel {wheel} is "
                    "missing; restore it or re-publish"
                )
            elif file_sha256(wheel) != version.sha256:
                problems.append(
                    f"{connector.name} {version.version}: {wheel} has sha256 "
                    f"{file_sha256(wheel)}, the registry records {version.sha256}"
                )
    return problems


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
