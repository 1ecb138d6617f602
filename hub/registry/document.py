"""Parsing and writing ``registry.json``.

The file is written with a fixed key order, two-space indent and a trailing
newline, connectors sorted by name and versions by PEP 440 order, so adding
a version changes only a few lines. Writes go to a temporary file that is
fsynced and renamed over the old one, so an interrupted write leaves the old
file unchanged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pydantic

from hub.errors import RegistryError
from hub.files import create_temporary_file
from hub.registry.models import SCHEMA_VERSION, Registry


def parse_registry(text: str, origin: str) -> Registry:
    """Parse a registry document; ``origin`` names the file or URL in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RegistryError(
            f"registry {origin} is not valid JSON: {error}; "
            "restore the file or point --registry at a valid one"
        ) from error

    if not isinstance(data, dict):
        raise RegistryError(
            f"registry {origin} contains a JSON {type(data).__name__}, "
            "expected an object with schema_version and connectors"
        )
    if data.get("schema_version") != SCHEMA_VERSION:
        raise RegistryError(
            f"registry {origin} has schema_version "
            f"{data.get('schema_version')!r}; this hub reads version "
            f"{SCHEMA_VERSION}, so upgrade the hub or the registry"
        )

    try:
        return Registry.model_validate(data)
    except pydantic.ValidationError as error:
        raise RegistryError(
            f"registry {origin} does not match the schema: {_first_problems(error)}"
        ) from error


def read_registry_file(path: Path) -> Registry:
    """Read and parse the registry file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(
            f"registry file {path} does not exist; create it with "
            "`hub publish PATH --registry FILE` or give another path"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryError(f"registry file {path} cannot be read: {error}") from error
    return parse_registry(text, str(path))


def dump_registry(registry: Registry) -> str:
    """Serialize ``registry`` in the stable, sorted form."""
    data = registry.sorted().model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_registry_file(path: Path, registry: Registry) -> None:
    """Replace ``path`` with ``registry`` atomically."""
    write_atomically(path, dump_registry(registry).encode("utf-8"))


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to a temporary file beside ``path``, then rename it.

    The file gets 0666 minus the umask, as a file that ``open()`` creates,
    so a shared registry and its wheels stay readable to others.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = create_temporary_file(
        path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _first_problems(error: pydantic.ValidationError, limit: int = 3) -> str:
    problems = [
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
        for item in error.errors()[:limit]
    ]
    more = error.error_count() - limit
    suffix = f" (and {more} more)" if more > 0 else ""
    return "; ".join(problems) + suffix
