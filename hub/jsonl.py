"""Secoda's file upload format: ``resources.jsonl`` and ``lineage.jsonl``."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from hub.errors import ConfigurationError, OutputError
from hub.files import create_temporary_file
from hub.sdk.models import DeclaredLineage, Resource

RESOURCES_FILE = "resources.jsonl"
LINEAGE_FILE = "lineage.jsonl"


class JSONLOutput:
    """Writes one JSON object per line into two files of one directory.

    Lines go to hidden partial files first, which replace the real files only
    when the run succeeds, so a failed run leaves the previous files intact.
    Each run's partial files have names of their own, so two runs into one
    directory never write into the same file.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.paths = [directory / RESOURCES_FILE, directory / LINEAGE_FILE]
        self._partials: list[Path] = []
        self._files = []
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for path in self.paths:
                descriptor, partial = create_temporary_file(
                    directory, prefix=f".{path.name}.", suffix=".partial"
                )
                self._partials.append(partial)
                self._files.append(os.fdopen(descriptor, "w", encoding="utf-8"))
        except OSError as error:
            self.abort()
            raise ConfigurationError(
                f"cannot write the upload files into {str(directory)!r}: "
                f"{error.strerror or error}; pass a writable --output directory"
            ) from error
        except BaseException:
            self.abort()
            raise

    def write_resource(self, resource: Resource, body: str) -> None:
        self._files[0].write(body + "\n")

    def write_lineage(self, lineage: DeclaredLineage, body: str) -> None:
        self._files[1].write(body + "\n")

    def commit(self) -> None:
        try:
            for file in self._files:
                file.flush()
                os.fsync(file.fileno())
                file.close()
            for partial, path in zip(self._partials, self.paths, strict=True):
                os.replace(partial, path)
        except OSError as error:
            self.abort()
            raise OutputError(
                f"writing the upload files into {str(self.directory)!r} failed: "
                f"{error.strerror or error}"
            ) from error

    def abort(self) -> None:
        for file in self._files:
            file.close()
        for partial in self._partials:
            with contextlib.suppress(OSError):
                partial.unlink()
