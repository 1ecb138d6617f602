"""Installing a connector from a registry into the hub's own environment.

The wheel's sha256 is checked against the registry before pip runs, and
the entry point is confirmed afterwards in a fresh interpreter, because this
process has already scanned the installed distributions.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from packaging.specifiers import SpecifierSet

from hub import CONNECTOR_GROUP
from hub import __version__ as hub_version
from hub.entrypoints import clear_cache
from hub.errors import (
    ChecksumMismatchError,
    ConfigurationError,
    ConnectorNotFoundError,
    HubError,
)
from hub.registry.build import file_sha256
from hub.registry.models import ConnectorVersion, RegistryConnector, Status
from hub.registry.processes import run_process
from hub.registry.sources import LoadedRegistry, Resolved, resolve
from hub.registry.wheelpath import stored_wheel_file, stored_wheel_url

logger = logging.getLogger(__name__)

PIP_TIMEOUT = 600
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0)


@dataclass(frozen=True)
class InstallResult:
    """One completed install."""

    name: str
    version: str
    distribution: str
    sha256: str
    registry: str
    status: Status = Status.PUBLISHED
    # Why the version was yanked or reviewed, as the registry records it.
    review_reason: str | None = None


def choose_version(
    connector: RegistryConnector, version: str | None, allow_unreviewed: bool
) -> ConnectorVersion:
    """Pick the requested version, else the newest installable one.

    As pip treats a yanked release, a yanked version is installed only when
    ``version`` names it; ``allow_unreviewed`` never selects one. A pinned
    version that awaits review or was rejected needs ``allow_unreviewed``.
    """
    if version is None:
        chosen = connector.latest(include_unreviewed=allow_unreviewed)
        if chosen is None:
            raise _no_default_version(connector, allow_unreviewed)
        return chosen

    chosen = connector.find_version(version)
    if chosen is None:
        available = ", ".join(item.version for item in connector.versions) or "none"
        raise ConfigurationError(
            f"{connector.name} has no version {version!r} (versions: {available})"
        )
    reviewed = (Status.PUBLISHED, Status.YANKED)
    if chosen.status not in reviewed and not allow_unreviewed:
        raise ConfigurationError(
            f"{connector.name} {version} is {chosen.status.value}, not published; "
            "pass --allow-unreviewed to install it anyway"
        )
    return chosen


def _no_default_version(
    connector: RegistryConnector, allow_unreviewed: bool
) -> ConfigurationError:
    """Describe every version and how to install one, for an install with none."""
    name = connector.name
    if not connector.versions:
        return ConfigurationError(
            f"{name} lists no versions; ask its maintainers to publish one"
        )

    versions = sorted(connector.versions, key=lambda item: item.parsed_version)
    states = ", ".join(_describe_state(item) for item in reversed(versions))
    fixes = []
    awaiting = [item for item in versions if item.status is not Status.YANKED]
    if awaiting and not allow_unreviewed:
        fixes.append(
            "pass --allow-unreviewed to install the newest draft, in_review "
            "or rejected version"
        )
    yanked = [item for item in versions if item.status is Status.YANKED]
    if yanked:
        fixes.append(
            "a yanked version installs only when pinned, as in "
            f"`hub install {name} --version {yanked[-1].version}`"
        )
    return ConfigurationError(
        f"{name} has no published version ({states}); {', or '.join(fixes)}"
    )


def _describe_state(version: ConnectorVersion) -> str:
    text = f"{version.version} is {version.status.value}"
    if version.status is Status.YANKED and version.review_reason:
        text += f": {version.review_reason}"
    return text


def check_requirements(connector: RegistryConnector, chosen: ConnectorVersion):
    """Raise unless this Python and this hub satisfy the version's requirements."""
    python = platform.python_version()
    if not SpecifierSet(chosen.requires_python).contains(python, prereleases=True):
        raise ConfigurationError(
            f"{connector.name} {chosen.version} requires Python "
            f"{chosen.requires_python}, but the hub runs on {python}; "
            "pick another --version or upgrade Python"
        )
    if not SpecifierSet(chosen.requires_hub).contains(hub_version, prereleases=True):
        raise ConfigurationError(
            f"{connector.name} {chosen.version} requires secoda-hub "
            f"{chosen.requires_hub}, but this hub is {hub_version}; "
            "pick another --version or upgrade the hub"
        )


def install(
    loaded: list[LoadedRegistry],
    name: str,
    *,
    version: str | None = None,
    allow_unreviewed: bool = False,
    pip_options: tuple[str, ...] = (),
) -> InstallResult:
    """Fetch, verify and pip-install connector ``name`` from the registries."""
    resolved = _resolve(loaded, name)
    chosen = choose_version(resolved.connector, version, allow_unreviewed)
    check_requirements(resolved.connector, chosen)
    with tempfile.TemporaryDirectory(prefix="hub-install-") as scratch:
        wheel = fetch_wheel(resolved, chosen, Path(scratch), pip_options)
        verify_sha256(wheel, chosen.sha256)
        _pip("install", "--quiet", *pip_options, str(wheel))

    clear_cache()
    confirm_entry_point(name, resolved.connector.distribution)
    logger.info("installed %s %s from %s", name, chosen.version, resolved.source.origin)
    return InstallResult(
        name,
        chosen.version,
        resolved.connector.distribution,
        chosen.sha256,
        resolved.source.origin,
        chosen.status,
        chosen.review_reason,
    )


def uninstall(distribution: str) -> None:
    """Remove ``distribution`` from the hub's environment with pip."""
    _pip("uninstall", "--yes", distribution)
    clear_cache()


def fetch_wheel(resolved: Resolved, chosen, directory: Path, pip_options=()) -> Path:
    """Put the version's wheel into ``directory`` and return its path."""
    source = chosen.wheel
    origin = resolved.source.origin
    label = f"{resolved.connector.name} {chosen.version}"
    if source.path and not resolved.source.is_url:
        wheel = stored_wheel_file(Path(origin), source.path, label)
        return _copy_local(wheel, directory)
    if source.path:
        return _download(stored_wheel_url(origin, source.path, label), directory)
    if source.url:
        return _download(source.url, directory)
    return _pip_download(resolved.connector, chosen, directory, pip_options)


def verify_sha256(wheel: Path, expected: str) -> None:
    """Raise :class:`ChecksumMismatchError` unless ``wheel`` hashes to ``expected``."""
    actual = file_sha256(wheel)
    if actual != expected:
        raise ChecksumMismatchError(
            f"{wheel.name} has sha256 {actual}, but the registry expects "
            f"{expected}; nothing was installed. The file was altered or the "
            "registry is out of date: ask its maintainers, never skip the check"
        )


def confirm_entry_point(name: str, distribution: str) -> None:
    """Check in a fresh interpreter that the connector's entry point is found."""
    script = (
        "import json, sys, importlib_metadata as m; "
        "found = m.entry_points(group=sys.argv[2]).select(name=sys.argv[1]); "
        "print(json.dumps([e.dist.name for e in found]))"
    )
    result = run_process(
        [sys.executable, "-I", "-c", script, name, CONNECTOR_GROUP],
        timeout=PIP_TIMEOUT,
    )
    found = json.loads(result.stdout or "[]") if result.returncode == 0 else []
    if not found:
        raise HubError(
            f"{distribution} installed, but no {CONNECTOR_GROUP} entry point "
            f"named {name!r} was found afterwards; check the wheel's "
            f"entry_points.txt ({result.stderr.strip() or 'no error output'})"
        )


def _resolve(loaded: list[LoadedRegistry], name: str) -> Resolved:
    resolved = resolve(loaded, name)
    if resolved is None:
        origins = ", ".join(source.origin for source in loaded)
        raise ConnectorNotFoundError(
            f"no registry lists a connector named {name!r} (searched: {origins}); "
            "see `hub registry search TEXT`"
        )
    return resolved


def _copy_local(path: Path, directory: Path) -> Path:
    if not path.is_file():
        raise ConfigurationError(
            f"the registry points to wheel {path}, which does not exist; "
            "restore it or re-publish the connector"
        )
    target = directory / path.name
    target.write_bytes(path.read_bytes())
    return target


def _download(url: str, directory: Path) -> Path:
    target = directory / url.rstrip("/").rsplit("/", 1)[-1]
    try:
        with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT) as response:
            response.raise_for_status()
            with target.open("wb") as stream:
                for chunk in response.iter_bytes():
                    stream.write(chunk)
    except httpx.HTTPError as error:
        raise ConfigurationError(f"downloading wheel {url} failed: {error}") from error
    return target


def _pip_download(connector, chosen, directory: Path, pip_options) -> Path:
    requirement = f"{connector.distribution}=={chosen.version}"
    _pip(
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--index-url",
        chosen.wheel.index,
        "--dest",
        str(directory),
        *pip_options,
        requirement,
    )
    wheels = sorted(directory.glob("*.whl"))
    if len(wheels) != 1:
        raise ConfigurationError(
            f"pip download of {requirement} from {chosen.wheel.index} "
            f"gave {len(wheels)} wheels, expected one"
        )
    return wheels[0]


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    result = run_process(command, timeout=PIP_TIMEOUT)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise HubError(f"`pip {args[0]}` failed (exit {result.returncode}):\n{output}")
