"""Read-only questions about a catalog: run history, resources and lineage."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from hub.catalog.schema import lineage, resources, runs
from hub.catalog.store import Catalog
from hub.messages import safe_message

INTERNAL = "internal_resource"

# The largest number of edges `hub catalog lineage` walks from a resource,
# and of ends it puts in one tree. A tree repeats an end once for every path that
# reaches it, so without a limit on ends a deep walk of a graph with many
# branches that join again would grow exponentially.
MAX_LINEAGE_DEPTH = 100
MAX_TREE_NODES = 10_000


def run_history(catalog: Catalog, connector: str | None = None) -> list[dict]:
    """List runs oldest first, with a duration and a status for dead runs.

    A run still marked ``running`` whose process no longer exists on this
    host is shown as ``interrupted``: it was killed before it could record
    its end, and nothing it declared reached the catalog.
    """
    query = select(runs).order_by(runs.c.id)
    if connector:
        query = query.where(runs.c.connector == connector)
    with catalog.read() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    return [_describe_run(row) for row in rows]


def run_connectors(catalog: Catalog) -> list[str]:
    """Return the names of the connectors with at least one run, sorted."""
    query = select(runs.c.connector).distinct().order_by(runs.c.connector)
    with catalog.read() as connection:
        return list(connection.execute(query).scalars())


def _describe_run(row: dict) -> dict:
    return {
        "id": row["id"],
        "connector": row["connector"],
        "profile": row["profile"],
        "status": run_status(row),
        "started_at": row["started_at"],
        "duration_seconds": _duration(row["started_at"], row["finished_at"]),
        "resources": row["resources"],
        "lineage": row["lineage"],
        # A catalog that an older hub wrote can hold a message of any length.
        "error": None if row["error"] is None else safe_message(row["error"]),
    }


def run_status(row: dict) -> str:
    if row["status"] != "running" or row.get("host") != socket.gethostname():
        return row["status"]
    pid = row.get("pid")
    if pid is None:
        return row["status"]
    # NOTE: a recycled process id makes a dead run look alive; the run then
    # shows as running until that unrelated process exits.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "interrupted"
    except PermissionError:
        pass
    return "running"


def _duration(started: str, finished: str | None) -> float | None:
    if finished is None:
        return None
    delta = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
    return round(delta.total_seconds(), 3)


@dataclass
class ResourceFilter:
    """Filters of ``hub catalog resources``; ``None`` leaves a field unfiltered."""

    connector: str | None = None
    profile: str | None = None
    entity_type: str | None = None
    stale: bool | None = None
    search: str | None = None
    limit: int | None = 100


def find_resources(catalog: Catalog, wanted: ResourceFilter) -> list[dict]:
    """List resources matching every given filter, ordered by id."""
    columns = [
        resources.c.connector,
        resources.c.profile,
        resources.c.databuilder_id,
        resources.c.entity_type,
        resources.c.title,
        resources.c.stale,
    ]
    query = select(*columns).where(*_resource_conditions(wanted))
    query = query.order_by(
        resources.c.databuilder_id, resources.c.connector, resources.c.profile
    )
    if wanted.limit is not None:
        query = query.limit(wanted.limit)
    with catalog.read() as connection:
        return [_plain(row) for row in connection.execute(query)]


def _resource_conditions(wanted: ResourceFilter) -> list:
    conditions = []
    if wanted.connector:
        conditions.append(resources.c.connector == wanted.connector)
    if wanted.profile:
        conditions.append(resources.c.profile == wanted.profile)
    if wanted.entity_type:
        conditions.append(resources.c.entity_type == wanted.entity_type)
    if wanted.stale is not None:
        conditions.append(resources.c.stale.is_(wanted.stale))
    if wanted.search:
        needle = wanted.search.lower()
        conditions.append(
            or_(
                func.lower(resources.c.databuilder_id).contains(
                    needle, autoescape=True
                ),
                func.lower(resources.c.title).contains(needle, autoescape=True),
            )
        )
    return conditions


def match_resource(
    catalog: Catalog,
    identifier: str,
    connector: str | None = None,
    profile: str | None = None,
) -> list[dict]:
    """Return the (connector, profile) keys that hold a resource with this id."""
    wanted = ResourceFilter(connector=connector, profile=profile, limit=None)
    query = (
        select(resources.c.connector, resources.c.profile)
        .where(resources.c.databuilder_id == identifier, *_resource_conditions(wanted))
        .order_by(resources.c.connector, resources.c.profile)
    )
    with catalog.read() as connection:
        return [_plain(row) for row in connection.execute(query)]


def describe_resource(
    catalog: Catalog, identifier: str, connector: str, profile: str
) -> dict[str, Any]:
    """Return every stored field of one resource with its family and edges."""
    scope = (resources.c.connector == connector, resources.c.profile == profile)
    with catalog.read() as connection:
        row = connection.execute(
            select(resources).where(*scope, resources.c.databuilder_id == identifier)
        ).one()
        described = _plain(row)
        described["body"] = json.loads(described["body"])
        children = connection.execute(
            select(resources.c.databuilder_id)
            .where(*scope, resources.c.parent_databuilder_id == identifier)
            .order_by(resources.c.databuilder_id)
        )
        described["children"] = list(children.scalars())
        edge_scope = (lineage.c.connector == connector, lineage.c.profile == profile)
        described["lineage_in"] = _edges(
            connection, *edge_scope, lineage.c.to_ref == identifier
        )
        described["lineage_out"] = _edges(
            connection, *edge_scope, lineage.c.from_ref == identifier
        )
    return described


def _edges(connection: Connection, *conditions) -> list[dict]:
    query = (
        select(
            lineage.c.from_type,
            lineage.c.from_ref,
            lineage.c.to_type,
            lineage.c.to_ref,
            lineage.c.stale,
            lineage.c.unresolved,
            lineage.c.derived_from,
        )
        .where(*conditions)
        .order_by(lineage.c.from_ref, lineage.c.to_ref)
    )
    return [_plain(row) for row in connection.execute(query)]


@dataclass
class LineageNode:
    """One end in a lineage tree, with the ends one edge further away."""

    ref: str
    type: str
    note: str = ""
    children: list[LineageNode] = field(default_factory=list)
    # Set on the root when the walk stopped at MAX_TREE_NODES ends.
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ref": self.ref, "type": self.type}
        if self.note:
            data["note"] = self.note
        data["children"] = [child.as_dict() for child in self.children]
        if self.truncated:
            data["truncated"] = True
        return data


def lineage_tree(
    catalog: Catalog,
    identifier: str,
    connector: str,
    profile: str,
    upstream: bool,
    depth: int,
) -> LineageNode:
    """Walk fresh lineage edges from one resource, up to ``depth`` edges away.

    Upstream, a SQL query end lists the external tables resolved from it
    (its derived edges) as its children. An end already on the current path
    is shown once more with the note ``cycle`` and not followed. The walk
    stops after ``MAX_TREE_NODES`` ends, and then marks the root truncated.
    """
    if not 1 <= depth <= MAX_LINEAGE_DEPTH:
        raise ValueError(
            f"invalid depth {depth}: pass a depth from 1 to {MAX_LINEAGE_DEPTH}"
        )
    walker = _LineageWalker(connector, profile, upstream)
    root = LineageNode(identifier, INTERNAL)
    with catalog.read() as connection:
        walker.expand(connection, root, depth, {identifier})
    root.truncated = walker.truncated
    return root


class _LineageWalker:
    def __init__(self, connector: str, profile: str, upstream: bool):
        self.scope = (
            lineage.c.connector == connector,
            lineage.c.profile == profile,
            lineage.c.stale.is_(False),
        )
        self.upstream = upstream
        self.room = MAX_TREE_NODES
        self.truncated = False

    def expand(self, connection, node: LineageNode, depth: int, path: set) -> None:
        if depth <= 0:
            return
        for edge in self._neighbours(connection, node.ref):
            if self.room <= 0:
                self.truncated = True
                return
            self.room -= 1
            child = self._node(edge)
            node.children.append(child)
            if child.ref in path:
                child.note = "cycle"
                continue
            if child.type == INTERNAL:
                self.expand(connection, child, depth - 1, path | {child.ref})
            elif child.type == "tables_from_query" and self.upstream:
                child.children = self._resolved_tables(connection, edge["edge_key"])

    def _neighbours(self, connection, ref: str) -> list[dict]:
        if self.upstream:
            # Derived edges appear under the SQL end they came from.
            condition = (lineage.c.to_ref == ref, lineage.c.derived_from.is_(None))
        else:
            condition = (lineage.c.from_ref == ref,)
        query = select(lineage).where(*self.scope, *condition)
        query = query.order_by(lineage.c.from_ref, lineage.c.to_ref)
        return [_plain(row) for row in connection.execute(query)]

    def _node(self, edge: dict) -> LineageNode:
        side = "from" if self.upstream else "to"
        notes = []
        if edge["derived_from"]:
            notes.append("resolved from SQL")
        if edge["unresolved"]:
            notes.append("unresolved")
        return LineageNode(edge[f"{side}_ref"], edge[f"{side}_type"], ", ".join(notes))

    def _resolved_tables(self, connection, edge_key: str) -> list[LineageNode]:
        query = select(lineage.c.from_ref, lineage.c.from_type).where(
            *self.scope, lineage.c.derived_from == edge_key
        )
        query = query.order_by(lineage.c.from_ref)
        rows = connection.execute(query)
        return [LineageNode(ref, kind, "resolved from SQL") for ref, kind in rows]


def _plain(row) -> dict[str, Any]:
    data = dict(row._mapping)
    for name in ("stale", "unresolved"):
        if name in data:
            data[name] = bool(data[name])
    return data
