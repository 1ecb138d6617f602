"""Where a run's declared models go: the catalog and any extra outputs."""

from __future__ import annotations

from typing import Protocol

from hub.sdk.models import DeclaredLineage, Resource


class RunSink(Protocol):
    """Receives each model of one run as it is declared.

    ``body`` is the model in Secoda's upload format: its JSON text with
    ``None`` values left out, serialised once for every sink.
    """

    def write_resource(self, resource: Resource, body: str) -> None: ...

    def write_lineage(self, lineage: DeclaredLineage, body: str) -> None: ...

    def commit(self) -> None:
        """Make everything written visible; called once, after a successful run."""

    def abort(self) -> None:
        """Discard everything written; called once, after a failed run."""
