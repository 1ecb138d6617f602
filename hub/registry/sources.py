"""Where registries come from: files, URLs with an ETag cache, the shipped copy.

A registry is named by ``--registry`` (repeatable) or by the
``SECODA_HUB_REGISTRY`` variable (entries separated by commas or spaces);
with neither, the hub reads the ``registry.json`` it ships with. Commands
that change a registry write only a file that the user names, never a URL
and never the copy inside the installed hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

import hub
from hub.errors import ConfigurationError, RegistryError
from hub.paths import data_dir
from hub.registry.document import parse_registry, read_registry_file, write_atomically
from hub.registry.models import Registry, RegistryConnector

logger = logging.getLogger(__name__)

REGISTRY_ENV = "SECODA_HUB_REGISTRY"

# Seconds to wait for a registry server before falling back to the cache.
FETCH_TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True)
class LoadedRegistry:
    """A registry document and where it came from."""

    origin: str
    registry: Registry
    # Seconds since the cached copy was fetched, when the server was unreachable.
    stale_seconds: float | None = None
    # The type of the transport error that made the hub use the cached copy.
    fetch_error: str | None = None

    @property
    def is_url(self) -> bool:
        return is_url(self.origin)


@dataclass(frozen=True)
class Resolved:
    """A connector found in one of several registries, first source wins."""

    connector: RegistryConnector
    source: LoadedRegistry
    shadowed: tuple[str, ...] = ()


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def shipped_registry_path() -> Path:
    """Return the registry file shipped in the wheel, else the checkout's copy."""
    package_copy = Path(hub.__file__).parent / "registry.json"
    if package_copy.is_file():
        return package_copy
    return Path(hub.__file__).resolve().parent.parent / "registry.json"


def configured_locations(options: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Return the registry locations in priority order."""
    if options:
        return list(options)
    return _environment_entries() or [str(shipped_registry_path())]


def _environment_entries() -> list[str]:
    raw = os.environ.get(REGISTRY_ENV, "")
    return [part for part in re.split(r"[,\s]+", raw) if part]


def writable_registry(given: str | None) -> Path:
    """Return the registry file that a command which changes a registry writes.

    That is ``given`` (the ``--registry`` option), else the one entry of
    ``SECODA_HUB_REGISTRY``. Raises :class:`ConfigurationError` when neither
    names exactly one file, when it is a URL, a directory, or a file inside
    the installed hub package, whose registry a reinstall replaces.
    """
    if given is not None:
        location = given
    else:
        location = _one_registry_from_environment()
    if is_url(location):
        raise ConfigurationError(
            f"registry {location} is a URL, and the hub changes only registry "
            "files: pass --registry with the path of a local copy, then upload "
            "the copy and its wheels/ folder"
        )
    path = Path(location).expanduser()
    if path.is_dir():
        raise ConfigurationError(
            f"registry {path} is a directory; pass --registry with the path of "
            f"a registry file, such as {path / 'registry.json'}"
        )
    package = Path(hub.__file__).resolve().parent
    if path.resolve().is_relative_to(package):
        raise ConfigurationError(
            f"registry {path} is inside the installed hub package, which only "
            "ships a read-only copy; pass --registry FILE with a registry of "
            "your own, such as --registry ./registry.json (created on the "
            "first publish)"
        )
    return path


def _one_registry_from_environment() -> str:
    entries = _environment_entries()
    if not entries:
        raise ConfigurationError(
            "no registry file is named, and the registry shipped with the hub "
            "is read-only: pass --registry FILE, such as --registry "
            f"./registry.json (created on the first publish), or set "
            f"{REGISTRY_ENV} to one registry file"
        )
    if len(entries) > 1:
        raise ConfigurationError(
            f"{REGISTRY_ENV} names {len(entries)} registries "
            f"({', '.join(entries)}); pass --registry FILE to choose the one "
            "to change"
        )
    return entries[0]


def load_registries(options: tuple[str, ...] | list[str] = ()) -> list[LoadedRegistry]:
    """Load every configured registry, in priority order."""
    return [load_registry(location) for location in configured_locations(options)]


def load_registry(location: str) -> LoadedRegistry:
    """Load one registry from a file path or an http(s) URL."""
    if is_url(location):
        return _load_url(location)
    path = Path(location).expanduser().resolve()
    return LoadedRegistry(str(path), read_registry_file(path))


def resolve(loaded: list[LoadedRegistry], name: str) -> Resolved | None:
    """Find ``name`` in the first registry that holds it."""
    holders = [source for source in loaded if source.registry.get(name)]
    if not holders:
        return None
    first = holders[0]
    return Resolved(
        first.registry.get(name),
        first,
        tuple(source.origin for source in holders[1:]),
    )


def merged(loaded: list[LoadedRegistry]) -> list[Resolved]:
    """Return every connector name once, resolved to its first registry."""
    names = sorted({c.name for source in loaded for c in source.registry.connectors})
    return [resolve(loaded, name) for name in names]


def cache_directory() -> Path:
    return data_dir() / "cache" / "registries"


def _cache_paths(url: str) -> tuple[Path, Path]:
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    directory = cache_directory()
    return directory / f"{key}.json", directory / f"{key}.meta.json"


def _load_url(url: str) -> LoadedRegistry:
    body_path, meta_path = _cache_paths(url)
    meta = _read_meta(meta_path) if body_path.is_file() else {}
    headers = {"If-None-Match": meta["etag"]} if meta.get("etag") else {}

    try:
        response = httpx.get(url, headers=headers, timeout=FETCH_TIMEOUT)
    except httpx.TransportError as error:
        return _load_cached(url, body_path, meta, error)

    if response.status_code == 304 and body_path.is_file():
        logger.debug("registry %s not modified, using the cached copy", url)
        _write_meta(meta_path, {**meta, "fetched_at": time.time()})
        return LoadedRegistry(url, _parse_cached(url, body_path))
    if response.status_code != 200:
        raise RegistryError(
            f"registry {url} returned HTTP {response.status_code}; "
            "check the URL or remove it from --registry / SECODA_HUB_REGISTRY"
        )

    registry = parse_registry(response.text, url)
    write_atomically(body_path, response.content)
    _write_meta(
        meta_path, {"etag": response.headers.get("etag"), "fetched_at": time.time()}
    )
    return LoadedRegistry(url, registry)


def _load_cached(url, body_path: Path, meta: dict, error: Exception):
    if not body_path.is_file():
        raise RegistryError(
            f"registry {url} is unreachable ({type(error).__name__}: {error}) "
            "and no cached copy exists; connect once, or give a file path"
        ) from error
    age = time.time() - float(meta.get("fetched_at", body_path.stat().st_mtime))
    # INFO, not WARNING: the caller reports the stale copy from the returned
    # fields, so a command that shows warnings does not show this one twice.
    logger.info(
        "registry %s is unreachable (%s); using the copy cached %s ago",
        url,
        type(error).__name__,
        describe_age(age),
    )
    return LoadedRegistry(
        url,
        _parse_cached(url, body_path),
        stale_seconds=age,
        fetch_error=type(error).__name__,
    )


def _parse_cached(url: str, body_path: Path) -> Registry:
    return parse_registry(body_path.read_text(encoding="utf-8"), f"{url} (cached)")


def _read_meta(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_meta(path: Path, meta: dict) -> None:
    write_atomically(path, json.dumps(meta).encode("utf-8"))


def describe_age(seconds: float) -> str:
    """Describe a duration in the largest whole unit, such as ``3 h``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
