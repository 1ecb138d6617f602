"""Checks of declared models against the rules in Secoda's documentation.

Each resource and lineage edge a connector declares passes through a
:class:`Validator` on its way to the run's sinks. The validator checks one
model at a time and keeps only counts per rule, never the ids it has seen, so
its memory stays flat however many models a run declares. Two rules that need
every id of the run are therefore not checked here: duplicate
``databuilder_id`` values, and internal lineage ends that name no declared
resource. The catalog detects both when it merges the run.

Ids are compared after :func:`normalize_id`, so two spellings of one id (one
with a trailing space, or with a decomposed accent) reach the catalog as the
same id, where they show up as a duplicate instead of as two resources.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from dataclasses import dataclass

from hub.errors import ValidationError
from hub.sdk.models import (
    ENTITY_TYPES,
    DeclaredLineage,
    ExternalColumn,
    ExternalTable,
    InternalResource,
    Resource,
    TablesFromSQLQuery,
)

logger = logging.getLogger(__name__)

# Rule names, as they appear in Violation.rule and in the run summary.
UNKNOWN_ENTITY_TYPE = "unknown_entity_type"
EMPTY_ID = "empty_id"
UNNORMALIZED_ID = "unnormalized_id"
MISSING_FIELD = "missing_field"
UNSUPPORTED_LINEAGE = "unsupported_lineage"
QUERY_AS_TARGET = "query_as_target"
CONTROL_CHARACTER = "control_character"

# Violations of one rule logged in full before the rest are only counted.
MAX_LOGGED_PER_RULE = 10

_KNOWN_ENTITY_TYPES = frozenset(ENTITY_TYPES)

# Fields Secoda requires per entity type. A blank string counts as missing.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "table": ("schema", "database"),
    "column": ("parent_databuilder_id",),
    "chart": ("product", "parent_databuilder_id"),
}

# How to fix a blank id, per field.
_ID_FIXES = {
    "databuilder_id": "set a non-blank id that stays the same between runs",
    "parent_databuilder_id": "set the databuilder_id of the parent, or leave it None",
}

_INTERNAL = "internal_resource"
_QUERY = "tables_from_query"

# Secoda requires at least one end of every lineage edge to be an internal
# resource of the integration. Its SDK documentation also lists external
# table to external table among the supported pairs, but such an edge breaks
# that rule, so it is flagged like every other edge without an internal end.
_SUPPORTED_PAIRS_TEXT = (
    "internal-internal, internal-external table, internal-external column, "
    "and tables_from_query to internal"
)


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: what broke it, in which field, and how to fix it."""

    subject: str
    field: str
    rule: str
    message: str


def normalize_id(value: str) -> str:
    """Return ``value`` in Unicode NFC with surrounding whitespace removed.

    Whitespace is what ``str.isspace`` accepts, which includes no-break
    spaces. Letter case is kept, because Secoda compares ids case-sensitively.
    """
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    return value.strip()


def normalize_resource(resource: Resource) -> Resource:
    """Return ``resource`` with normalised ids: a copy only if one changed."""
    databuilder_id = normalize_id(resource.databuilder_id)
    parent = resource.parent_databuilder_id
    normalized_parent = None if parent is None else normalize_id(parent)
    if databuilder_id == resource.databuilder_id and normalized_parent == parent:
        return resource

    return resource.model_copy(
        update={
            "databuilder_id": databuilder_id,
            "parent_databuilder_id": normalized_parent,
        }
    )


def normalize_lineage(lineage: DeclaredLineage) -> DeclaredLineage:
    """Return ``lineage`` with normalised internal ends: a copy only if one changed."""
    source = _normalize_end(lineage.from_identifier)
    target = _normalize_end(lineage.to_identifier)
    if source is lineage.from_identifier and target is lineage.to_identifier:
        return lineage
    return lineage.model_copy(
        update={"from_identifier": source, "to_identifier": target}
    )


def _normalize_end(end):
    if not isinstance(end, InternalResource):
        return end
    databuilder_id = normalize_id(end.databuilder_id)
    if databuilder_id == end.databuilder_id:
        return end
    return InternalResource(databuilder_id=databuilder_id)


class Validator:
    """Checks declared models one at a time and counts violations per rule.

    By default each violation is logged as a warning on the ``hub.validation``
    logger, the first :data:`MAX_LOGGED_PER_RULE` of each rule in full and the
    rest only counted. With ``strict=True`` the first violation raises
    :class:`hub.errors.ValidationError` with its message instead. Duplicate
    ids and dangling internal lineage ends are left to the catalog, as the
    module docstring explains.
    """

    def __init__(self, strict: bool = False, max_logged_per_rule: int | None = None):
        self.strict = strict
        self.max_logged_per_rule = (
            MAX_LOGGED_PER_RULE if max_logged_per_rule is None else max_logged_per_rule
        )
        self.counts: Counter[str] = Counter()

    def check_resource(self, resource: Resource) -> list[Violation]:
        """Check one resource as declared, record its violations and return them."""
        violations = resource_violations(resource)
        if violations:
            self._record(violations)
        return violations

    def check_lineage(self, lineage: DeclaredLineage) -> list[Violation]:
        """Check one lineage edge as declared, record its violations and return them."""
        violations = lineage_violations(lineage)
        if violations:
            self._record(violations)
        return violations

    def validate_resource(self, resource: Resource) -> Resource:
        """Check one resource, then return it with normalised ids."""
        # An id that normalisation would change breaks a rule, so a resource
        # without violations is returned as it is, without normalising again.
        if not self.check_resource(resource):
            return resource
        return normalize_resource(resource)

    def validate_lineage(self, lineage: DeclaredLineage) -> DeclaredLineage:
        """Check one lineage edge, then return it with normalised internal ends."""
        if not self.check_lineage(lineage):
            return lineage
        return normalize_lineage(lineage)

    def summary(self) -> dict:
        """Return the violation counts for the run summary, rules sorted by name."""
        return {
            "violations": sum(self.counts.values()),
            "by_rule": dict(sorted(self.counts.items())),
        }

    def _record(self, violations: list[Violation]) -> None:
        for violation in violations:
            self.counts[violation.rule] += 1
            if self.strict:
                raise ValidationError(violation.message)
            self._log(violation)

    def _log(self, violation: Violation) -> None:
        count = self.counts[violation.rule]
        if count <= self.max_logged_per_rule:
            logger.warning("%s", violation.message)
        if count == self.max_logged_per_rule:
            logger.warning(
                "%d %s violations logged; further ones are only counted in the "
                "run summary",
                count,
                violation.rule,
            )


def resource_violations(resource: Resource) -> list[Violation]:
    """Return the rules ``resource`` breaks, without logging or counting them."""
    violations: list[Violation] = []
    entity_type = resource.entity_type
    if entity_type not in _KNOWN_ENTITY_TYPES:
        violations.append(_unknown_entity_type(resource))

    _check_id(violations, resource, "databuilder_id", resource.databuilder_id)
    parent = resource.parent_databuilder_id
    if parent is not None:
        _check_id(violations, resource, "parent_databuilder_id", parent)

    for field in REQUIRED_FIELDS.get(entity_type, ()):
        if _is_missing(resource, field):
            violations.append(_missing_field(resource, field))
    return violations


def _is_missing(resource: Resource, field: str) -> bool:
    value = getattr(resource, field)
    if value is None:
        return True

    # A blank parent id is already reported as an empty id.
    return field != "parent_databuilder_id" and not value.strip()


def _check_id(
    violations: list[Violation], resource: Resource, field: str, value: str
) -> None:
    normalized = normalize_id(value)
    if not normalized:
        subject = _resource_subject(resource)
        violations.append(
            Violation(
                subject,
                field,
                EMPTY_ID,
                f"{subject} has an empty {field} ({value!r}); {_ID_FIXES[field]}",
            )
        )
    elif normalized != value:
        violations.append(_unnormalized(_resource_subject(resource), field, value))
    # isprintable() is false for every control character and runs in C, so
    # the usual id costs no loop over its characters.
    if not normalized.isprintable():
        _check_characters(violations, _resource_subject, resource, field, normalized)


def _check_characters(violations, describe, model, field: str, value: str) -> None:
    found = sorted({char for char in value if unicodedata.category(char) == "Cc"})
    if not found:
        return
    subject = describe(model)
    codes = ", ".join(f"U+{ord(char):04X}" for char in found)
    kind, pronoun = "a control character", "it"
    if len(found) > 1:
        kind, pronoun = "control characters", "them"
    violations.append(
        Violation(
            subject,
            field,
            CONTROL_CHARACTER,
            f"{subject}: {field} {value!r} contains {kind} ({codes}); remove "
            f"{pronoun}, because PostgreSQL cannot store NUL and a terminal acts "
            "on control characters when the id is printed",
        )
    )


def _resource_subject(resource: Resource) -> str:
    if resource.databuilder_id.strip():
        return f"{resource.entity_type} {resource.databuilder_id!r}"
    return f"{resource.entity_type} titled {resource.title!r}"


def _unknown_entity_type(resource: Resource) -> Violation:
    subject = _resource_subject(resource)
    return Violation(
        subject,
        "entity_type",
        UNKNOWN_ENTITY_TYPE,
        f"{subject} has entity_type {resource.entity_type!r}, which Secoda does "
        f"not know; use one of {', '.join(ENTITY_TYPES)}",
    )


def _missing_field(resource: Resource, field: str) -> Violation:
    subject = _resource_subject(resource)
    required = " and ".join(REQUIRED_FIELDS[resource.entity_type])
    return Violation(
        subject,
        field,
        MISSING_FIELD,
        f"{subject} has no {field}; Secoda requires {required} on every "
        f"{resource.entity_type}",
    )


def _unnormalized(subject: str, field: str, value: str) -> Violation:
    normalized = normalize_id(value)
    return Violation(
        subject,
        field,
        UNNORMALIZED_ID,
        f"{subject}: {field} {value!r} is stored as {normalized!r} (Unicode NFC, "
        "surrounding whitespace removed); declare it in that spelling so each "
        "id has one spelling",
    )


def lineage_violations(lineage: DeclaredLineage) -> list[Violation]:
    """Return the rules ``lineage`` breaks, without logging or counting them."""
    violations: list[Violation] = []
    source = lineage.from_identifier
    target = lineage.to_identifier
    if target.type == _QUERY:
        violations.append(_query_as_target(lineage))
    elif source.type != _INTERNAL and target.type != _INTERNAL:
        violations.append(_unsupported_pair(lineage))

    _check_end(violations, lineage, "from_identifier", source)
    _check_end(violations, lineage, "to_identifier", target)
    return violations


def _check_end(
    violations: list[Violation], lineage: DeclaredLineage, side: str, end
) -> None:
    if isinstance(end, InternalResource):
        _check_end_id(violations, lineage, f"{side}.databuilder_id", end.databuilder_id)
        return

    if isinstance(end, (ExternalTable, ExternalColumn)) and not end.table.strip():
        violations.append(_blank_end_field(lineage, f"{side}.table"))
    if isinstance(end, ExternalColumn) and not end.column.strip():
        violations.append(_blank_end_field(lineage, f"{side}.column"))
    if isinstance(end, TablesFromSQLQuery) and not end.sql.strip():
        violations.append(_blank_end_field(lineage, f"{side}.sql"))


def _check_end_id(
    violations: list[Violation], lineage: DeclaredLineage, field: str, value: str
) -> None:
    normalized = normalize_id(value)
    if not normalized:
        subject = _edge_subject(lineage)
        violations.append(
            Violation(
                subject,
                field,
                EMPTY_ID,
                f"{subject} has an empty {field}; name the databuilder_id "
                "of a resource this connector declares",
            )
        )
    elif normalized != value:
        violations.append(_unnormalized(_edge_subject(lineage), field, value))
    if not normalized.isprintable():
        _check_characters(violations, _edge_subject, lineage, field, normalized)


def _blank_end_field(lineage: DeclaredLineage, field: str) -> Violation:
    subject = _edge_subject(lineage)
    return Violation(
        subject,
        field,
        MISSING_FIELD,
        f"{subject} has a blank {field}; set the name of the table or column "
        "it refers to",
    )


def _query_as_target(lineage: DeclaredLineage) -> Violation:
    subject = _edge_subject(lineage)
    return Violation(
        subject,
        "to_identifier",
        QUERY_AS_TARGET,
        f"{subject} has tables_from_query as its to_identifier; Secoda "
        "accepts a query only as from_identifier, so swap the ends or name the "
        "written table as an external_table",
    )


def _unsupported_pair(lineage: DeclaredLineage) -> Violation:
    subject = _edge_subject(lineage)
    return Violation(
        subject,
        "from_identifier",
        UNSUPPORTED_LINEAGE,
        f"{subject} goes from {lineage.from_identifier.type} to "
        f"{lineage.to_identifier.type}, so neither end is an internal_resource; "
        "Secoda requires at least one end of every edge to be a resource of "
        f"this integration (supported pairs: {_SUPPORTED_PAIRS_TEXT})",
    )


def _edge_subject(lineage: DeclaredLineage) -> str:
    return f"lineage {describe_edge(lineage)}"


def describe_edge(lineage: DeclaredLineage) -> str:
    """Return a one-line description of ``lineage``, such as ``a -> b``."""
    source = _describe_end(lineage.from_identifier)
    target = _describe_end(lineage.to_identifier)
    return f"{source} -> {target}"


def _describe_end(end) -> str:
    if isinstance(end, InternalResource):
        return f"internal_resource {end.databuilder_id!r}"

    if isinstance(end, TablesFromSQLQuery):
        # The query text may quote private literals, so only its size is shown.
        return f"tables_from_query ({len(end.sql)} characters of SQL)"

    parts = [end.cluster, end.database, end.schema, end.table]
    if isinstance(end, ExternalColumn):
        parts.append(end.column)
    name = ".".join(part for part in parts if part)
    return f"{end.type} {name!r}"
