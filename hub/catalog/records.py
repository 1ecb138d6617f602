"""Value types and small helpers shared by the catalog modules."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# How many example ids a sync result names for duplicates and dangling ends.
MAX_EXAMPLES = 10


@dataclass
class SyncCounts:
    """Counts of one successful sync's changes to one catalog table.

    ``restored`` counts rows that were stale and were declared again; they are
    also counted as changed or unchanged.
    """

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    stale: int = 0
    restored: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))

    @property
    def declared(self) -> int:
        return self.added + self.changed + self.unchanged


@dataclass
class Examples:
    """A count of problem rows and up to ``MAX_EXAMPLES`` of their ids."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, identifier: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES and identifier not in self.examples:
            self.examples.append(identifier)

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": list(self.examples)}


@dataclass
class StaleGuard:
    """The fail-safe record of a sync that kept resources fresh, not stale."""

    would_stale: int
    fresh_before: int
    threshold: float
    # What the counts are of: "resources", or "lineage edges".
    kind: str = "resources"

    @property
    def share(self) -> float:
        return self.would_stale / self.fresh_before if self.fresh_before else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "would_stale": self.would_stale,
            "fresh_before": self.fresh_before,
            "share": round(self.share, 4),
            "threshold": self.threshold,
            "kind": self.kind,
            "reason": (
                f"the run would mark {self.would_stale} of {self.fresh_before} "
                f"{self.kind} stale ({self.share:.0%}), more than the "
                f"{self.threshold:.0%} threshold; nothing was marked stale. "
                "Rerun with --allow-mass-stale if the removals are real."
            ),
        }


@dataclass
class SyncResult:
    """Counts of a merged sync, for resources and for lineage.

    ``duplicates`` counts resource declarations that replaced an earlier one
    with the same ``databuilder_id`` in the same run. ``dangling`` counts
    internal lineage ends that name no resource of the run, and
    ``unresolved_edges`` the lineage rows stored with such an end.
    """

    resources: SyncCounts = field(default_factory=SyncCounts)
    lineage: SyncCounts = field(default_factory=SyncCounts)
    duplicates: Examples = field(default_factory=Examples)
    dangling: Examples = field(default_factory=Examples)
    unresolved_edges: int = 0
    stale_guard: StaleGuard | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "resources": self.resources.as_dict(),
            "lineage": self.lineage.as_dict(),
            "duplicates": self.duplicates.as_dict(),
            "dangling": self.dangling.as_dict(),
            "unresolved_edges": self.unresolved_edges,
            "stale_guard": self.stale_guard.as_dict() if self.stale_guard else None,
        }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def lineage_ref(identifier) -> str:
    """Return the text a lineage end is looked up by.

    The forms match schema version 1, so migrated rows keep their refs.
    """
    if identifier.type == "internal_resource":
        return identifier.databuilder_id
    if identifier.type == "tables_from_query":
        return "sql:" + digest(identifier.sql)[:16]
    parts = [
        identifier.cluster,
        identifier.database,
        identifier.schema,
        identifier.table,
    ]
    if identifier.type == "external_column":
        parts.append(identifier.column)
    return ".".join(part for part in parts if part)
