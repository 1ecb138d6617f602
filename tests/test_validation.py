"""Tests of hub.validation: declared models checked against Secoda's rules."""

import logging

import pytest

from hub.errors import ValidationError
from hub.sdk import (
    DeclaredLineage,
    ExternalColumn,
    ExternalTable,
    InternalResource,
    Resource,
    TablesFromSQLQuery,
)
from hub.validation import (
    CONTROL_CHARACTER,
    EMPTY_ID,
    MISSING_FIELD,
    QUERY_AS_TARGET,
    UNKNOWN_ENTITY_TYPE,
    UNNORMALIZED_ID,
    UNSUPPORTED_LINEAGE,
    Validator,
    describe_edge,
    lineage_violations,
    normalize_id,
    normalize_lineage,
    normalize_resource,
    resource_violations,
)

DECOMPOSED = "cafe\u0301"  # "café" with a combining acute accent
COMPOSED = "caf\u00e9"

INTERNAL = InternalResource(databuilder_id="cluvio.report.1")
OTHER_INTERNAL = InternalResource(databuilder_id="cluvio.dashboard.1")
TABLE = ExternalTable(database="analytics", schema="sales", table="orders")
COLUMN = ExternalColumn(schema="sales", table="orders", column="total")
QUERY = TablesFromSQLQuery(sql="SELECT * FROM orders")


def table(**changes) -> Resource:
    fields = dict(
        entity_type="table",
        databuilder_id="pg.analytics.sales.orders",
        schema="sales",
        database="analytics",
    )
    return Resource(**{**fields, **changes})


def edge(source, target) -> DeclaredLineage:
    return DeclaredLineage(from_identifier=source, to_identifier=target)


def rules(violations) -> list[str]:
    return [violation.rule for violation in violations]


def test_normalize_id_strips_whitespace():
    assert normalize_id("  orders\t\n") == "orders"


def test_normalize_id_strips_no_break_space():
    assert normalize_id("orders\u00a0") == "orders"


def test_normalize_id_composes_unicode():
    assert normalize_id(DECOMPOSED) == COMPOSED


def test_normalize_id_keeps_case():
    assert normalize_id("Orders") == "Orders"


def test_normalize_id_keeps_inner_space():
    assert normalize_id("Plan Changes") == "Plan Changes"


def test_normalize_resource_unchanged_is_same():
    resource = table()
    assert normalize_resource(resource) is resource


def test_normalize_resource_copies_on_change():
    resource = table(databuilder_id=f" {DECOMPOSED} ", parent_databuilder_id="db ")
    normalized = normalize_resource(resource)
    assert normalized is not resource
    assert normalized.databuilder_id == COMPOSED
    assert normalized.parent_databuilder_id == "db"
    assert resource.databuilder_id == f" {DECOMPOSED} "


def test_normalize_lineage_unchanged_is_same():
    lineage = edge(INTERNAL, TABLE)
    assert normalize_lineage(lineage) is lineage


def test_normalize_lineage_fixes_internal_ends():
    lineage = edge(InternalResource(databuilder_id=" a"), TABLE)
    normalized = normalize_lineage(lineage)
    assert normalized.from_identifier.databuilder_id == "a"
    assert normalized.to_identifier is TABLE


def test_two_spellings_normalize_equal():
    first = normalize_resource(table(databuilder_id=DECOMPOSED))
    second = normalize_resource(table(databuilder_id=f"{COMPOSED} "))
    assert first.databuilder_id == second.databuilder_id


def test_valid_table_has_no_violations():
    assert resource_violations(table()) == []


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param(Resource(entity_type="database", databuilder_id="db"), id="db"),
        pytest.param(
            Resource(entity_type="dashboard_group", databuilder_id="g"), id="group"
        ),
        pytest.param(
            Resource(
                entity_type="column", databuilder_id="c", parent_databuilder_id="t"
            ),
            id="column",
        ),
        pytest.param(
            Resource(
                entity_type="chart",
                databuilder_id="r",
                parent_databuilder_id="d",
                product="cluvio",
            ),
            id="chart",
        ),
    ],
)
def test_valid_resources_pass(resource):
    assert resource_violations(resource) == []


def test_unknown_entity_type_flagged():
    violations = resource_violations(Resource(entity_type="Table", databuilder_id="x"))
    assert rules(violations) == [UNKNOWN_ENTITY_TYPE]
    assert violations[0].field == "entity_type"
    assert "'Table'" in violations[0].message


def test_table_without_schema_and_database():
    violations = resource_violations(table(schema=None, database=" "))
    assert rules(violations) == [MISSING_FIELD, MISSING_FIELD]
    assert [violation.field for violation in violations] == ["schema", "database"]


def test_column_without_parent_flagged():
    violations = resource_violations(Resource(entity_type="column", databuilder_id="c"))
    assert rules(violations) == [MISSING_FIELD]
    assert violations[0].field == "parent_databuilder_id"


def test_chart_without_product_and_parent():
    violations = resource_violations(Resource(entity_type="chart", databuilder_id="r"))
    fields = [violation.field for violation in violations]
    assert fields == ["product", "parent_databuilder_id"]


def test_blank_parent_is_empty_id():
    resource = Resource(
        entity_type="column", databuilder_id="c", parent_databuilder_id="  "
    )
    violations = resource_violations(resource)
    assert rules(violations) == [EMPTY_ID]
    assert violations[0].field == "parent_databuilder_id"


def test_blank_databuilder_id_flagged():
    violations = resource_violations(table(databuilder_id=" \t", title="Orders"))
    assert rules(violations) == [EMPTY_ID]
    assert "titled 'Orders'" in violations[0].message


def test_unnormalized_id_names_both_spellings():
    violations = resource_violations(table(databuilder_id="orders "))
    assert rules(violations) == [UNNORMALIZED_ID]
    assert "'orders '" in violations[0].message
    assert "'orders'" in violations[0].message


def test_violation_message_names_id_and_field():
    [violation] = resource_violations(table(schema=None))
    assert "'pg.analytics.sales.orders'" in violation.message
    assert "schema" in violation.message
    assert violation.subject == "table 'pg.analytics.sales.orders'"


SUPPORTED = [
    (INTERNAL, OTHER_INTERNAL),
    (INTERNAL, TABLE),
    (TABLE, INTERNAL),
    (INTERNAL, COLUMN),
    (COLUMN, INTERNAL),
    (QUERY, INTERNAL),
]

# Every edge without an internal end, external table to external table too.
UNSUPPORTED = [
    (TABLE, TABLE),
    (TABLE, COLUMN),
    (COLUMN, TABLE),
    (COLUMN, COLUMN),
    (QUERY, TABLE),
    (QUERY, COLUMN),
]

QUERY_TARGETS = [
    (INTERNAL, QUERY),
    (TABLE, QUERY),
    (QUERY, QUERY),
]


def pair_id(pair) -> str:
    return f"{pair[0].type}-{pair[1].type}"


@pytest.mark.parametrize("pair", SUPPORTED, ids=pair_id)
def test_supported_lineage_passes(pair):
    assert lineage_violations(edge(*pair)) == []


@pytest.mark.parametrize("pair", UNSUPPORTED, ids=pair_id)
def test_unsupported_lineage_flagged(pair):
    assert rules(lineage_violations(edge(*pair))) == [UNSUPPORTED_LINEAGE]


def test_unsupported_lineage_states_rule():
    [violation] = lineage_violations(edge(TABLE, TABLE))

    assert "neither end is an internal_resource" in violation.message
    assert "at least one end of every edge" in violation.message


@pytest.mark.parametrize("pair", QUERY_TARGETS, ids=pair_id)
def test_query_as_target_flagged(pair):
    violations = lineage_violations(edge(*pair))
    assert rules(violations) == [QUERY_AS_TARGET]
    assert violations[0].field == "to_identifier"


def test_lineage_blank_internal_end():
    violations = lineage_violations(edge(InternalResource(databuilder_id=""), TABLE))
    assert rules(violations) == [EMPTY_ID]
    assert violations[0].field == "from_identifier.databuilder_id"


def test_lineage_unnormalized_internal_end():
    target = InternalResource(databuilder_id=DECOMPOSED)
    violations = lineage_violations(edge(TABLE, target))
    assert rules(violations) == [UNNORMALIZED_ID]
    assert violations[0].field == "to_identifier.databuilder_id"


def test_lineage_blank_external_names():
    column = ExternalColumn(table=" ", column="")
    violations = lineage_violations(edge(INTERNAL, column))
    fields = [violation.field for violation in violations]
    assert fields == ["to_identifier.table", "to_identifier.column"]


def test_lineage_blank_query_flagged():
    violations = lineage_violations(edge(TablesFromSQLQuery(sql=" "), INTERNAL))
    assert rules(violations) == [MISSING_FIELD]
    assert violations[0].field == "from_identifier.sql"


def test_edge_description_hides_sql():
    query = TablesFromSQLQuery(sql="SELECT 'private' FROM t")
    description = describe_edge(edge(query, INTERNAL))
    assert "private" not in description
    assert "'cluvio.report.1'" in description


def test_edge_description_dotted_names():
    description = describe_edge(edge(TABLE, COLUMN))
    assert description == (
        "external_table 'analytics.sales.orders' -> "
        "external_column 'sales.orders.total'"
    )


def test_validator_logs_warning(caplog):
    validator = Validator()
    with caplog.at_level(logging.WARNING, logger="hub.validation"):
        validator.check_resource(table(schema=None))
    [record] = caplog.records
    assert record.name == "hub.validation"
    assert record.levelno == logging.WARNING
    assert "'pg.analytics.sales.orders'" in record.getMessage()
    assert "schema" in record.getMessage()


def test_validator_rate_limits_logging(caplog):
    validator = Validator(max_logged_per_rule=3)
    with caplog.at_level(logging.WARNING, logger="hub.validation"):
        for number in range(10):
            validator.check_resource(table(databuilder_id=f"t{number}", schema=None))
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 4
    assert "only counted" in messages[-1]
    assert validator.summary()["by_rule"] == {MISSING_FIELD: 10}


def test_validator_rate_limit_per_rule(caplog):
    validator = Validator(max_logged_per_rule=1)
    with caplog.at_level(logging.WARNING, logger="hub.validation"):
        for _ in range(3):
            validator.check_resource(table(schema=None))
            validator.check_lineage(edge(TABLE, COLUMN))
    logged = [record.getMessage() for record in caplog.records]
    assert sum("has no schema" in message for message in logged) == 1
    assert sum("neither end is an internal" in message for message in logged) == 1


def test_validator_summary_counts_rules():
    validator = Validator()
    validator.check_resource(table())
    validator.check_resource(table(schema=None, database=None))
    validator.check_resource(Resource(entity_type="view", databuilder_id="v "))
    validator.check_lineage(edge(INTERNAL, QUERY))
    assert validator.summary() == {
        "violations": 5,
        "by_rule": {
            MISSING_FIELD: 2,
            QUERY_AS_TARGET: 1,
            UNKNOWN_ENTITY_TYPE: 1,
            UNNORMALIZED_ID: 1,
        },
    }


def test_validator_empty_summary():
    assert Validator().summary() == {"violations": 0, "by_rule": {}}


def test_strict_raises_first_violation():
    validator = Validator(strict=True)
    with pytest.raises(ValidationError, match="has no schema"):
        validator.check_resource(table(schema=None, database=None))
    assert validator.summary()["violations"] == 1


def test_strict_raises_for_lineage():
    validator = Validator(strict=True)
    with pytest.raises(ValidationError, match="tables_from_query"):
        validator.check_lineage(edge(INTERNAL, QUERY))


def test_strict_accepts_valid_models():
    validator = Validator(strict=True)
    assert validator.check_resource(table()) == []
    assert validator.check_lineage(edge(QUERY, INTERNAL)) == []


def test_validate_resource_returns_normalized():
    validator = Validator()
    resource = validator.validate_resource(table(databuilder_id="orders\n"))
    assert resource.databuilder_id == "orders"
    assert validator.summary()["by_rule"] == {UNNORMALIZED_ID: 1}


def test_validate_lineage_returns_normalized():
    validator = Validator()
    lineage = validator.validate_lineage(
        edge(QUERY, InternalResource(databuilder_id="r "))
    )
    assert lineage.to_identifier.databuilder_id == "r"
    assert validator.summary()["by_rule"] == {UNNORMALIZED_ID: 1}


def test_validate_resource_valid_is_same():
    resource = table()
    assert Validator().validate_resource(resource) is resource


def test_validate_lineage_valid_is_same():
    lineage = edge(TABLE, INTERNAL)
    assert Validator().validate_lineage(lineage) is lineage


# Ids that normalisation changes, and the valid models built around them.
UNNORMALIZED_IDS = ["orders ", " orders", "orders\u00a0", DECOMPOSED, "\tx\n"]


@pytest.mark.parametrize("identifier", UNNORMALIZED_IDS)
def test_normalized_resource_had_violation(identifier):
    # validate_resource skips normalising a resource without violations, so
    # every resource that normalising changes must break a rule.
    for resource in (
        table(databuilder_id=identifier),
        Resource(
            entity_type="column", databuilder_id="c", parent_databuilder_id=identifier
        ),
    ):
        assert normalize_resource(resource) is not resource
        assert UNNORMALIZED_ID in rules(resource_violations(resource))


@pytest.mark.parametrize("identifier", UNNORMALIZED_IDS)
def test_normalized_lineage_had_violation(identifier):
    end = InternalResource(databuilder_id=identifier)
    for lineage in (edge(end, INTERNAL), edge(TABLE, end)):
        assert normalize_lineage(lineage) is not lineage
        assert UNNORMALIZED_ID in rules(lineage_violations(lineage))


CONTROL_IDS = ["a\x00b", "\x00", "a\tb", "a\rb", "report\x1b[2J", "a\x7fb", "a\x85b"]


@pytest.mark.parametrize("identifier", CONTROL_IDS, ids=repr)
def test_control_character_in_id_flagged(identifier):
    violations = resource_violations(table(databuilder_id=identifier))

    assert rules(violations) == [CONTROL_CHARACTER]
    assert violations[0].field == "databuilder_id"
    assert repr(identifier) in violations[0].message


def test_control_character_codes_named():
    [violation] = resource_violations(table(databuilder_id="a\x00b\x1bc\x00"))

    assert "control characters (U+0000, U+001B)" in violation.message
    assert "\x00" not in violation.message


def test_control_character_in_parent_flagged():
    resource = Resource(
        entity_type="column", databuilder_id="c", parent_databuilder_id="t\x00"
    )

    violations = resource_violations(resource)

    assert rules(violations) == [CONTROL_CHARACTER]
    assert violations[0].field == "parent_databuilder_id"


def test_control_character_in_lineage_end():
    source = InternalResource(databuilder_id="r\x00")

    violations = lineage_violations(edge(source, TABLE))

    assert rules(violations) == [CONTROL_CHARACTER]
    assert violations[0].field == "from_identifier.databuilder_id"


def test_trailing_newline_only_unnormalized():
    # Normalising strips it, so it is not also reported as a control character.
    assert rules(resource_violations(table(databuilder_id="orders\n"))) == [
        UNNORMALIZED_ID
    ]


@pytest.mark.parametrize(
    "identifier",
    ["Plan Changes", "a\u00a0b", "a\u200bb", "\u00e9t\u00e9", "a\u2028b"],
    ids=repr,
)
def test_printable_or_format_id_passes(identifier):
    # Only Unicode category Cc is a control character: no-break and
    # zero-width spaces and line separators are not.
    assert resource_violations(table(databuilder_id=identifier)) == []


def test_strict_raises_for_control_character():
    validator = Validator(strict=True)

    with pytest.raises(ValidationError, match="U\\+0000"):
        validator.check_resource(table(databuilder_id="a\x00b"))
