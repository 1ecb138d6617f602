"""Tests of replace_parameters: Cluvio filter parameters rewritten as plain SQL."""

import re

import pytest

from hub.sdk import TablesFromSQLQuery
from hub.sdk.strategies import IngestResourcesStrategy
from hub.sqllineage import expand_query_lineage, tables_in_sql
from hub.validation import Validator
from secoda_connector_cluvio import CluvioIntegration
from secoda_connector_cluvio.sql import replace_parameters
from secoda_connector_cluvio.testserver import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    CluvioTestServer,
    generate_account,
)

SEEDS = (0, 1, 7, 42)

# The example report query of Cluvio's filter documentation.
REFERENCE_EXAMPLE = (
    "SELECT {created_at:aggregation}, COUNT(*) FROM orders WHERE "
    "{created_at=timerange} AND {category=product_categories} GROUP BY 1"
)


def dotted_names(sql: str) -> set[str]:
    names = set()
    for table in tables_in_sql(sql):
        parts = (table.cluster, table.database, table.schema, table.table)
        names.add(".".join(part for part in parts if part))
    return names


def generated_reports():
    for seed in SEEDS:
        for report in generate_account(200, seed=seed).reports:
            yield seed, report


def test_reference_example_rewritten():
    assert replace_parameters(REFERENCE_EXAMPLE) == (
        "SELECT (created_at), COUNT(*) FROM orders WHERE "
        "(created_at IS NOT NULL) AND (category IS NOT NULL) GROUP BY 1"
    )


def test_reference_example_tables():
    assert dotted_names(replace_parameters(REFERENCE_EXAMPLE)) == {"orders"}


def test_bracketed_condition_keeps_expression():
    sql = "SELECT 1 FROM orders o WHERE {[o.created_at]=timerange}"
    assert replace_parameters(sql) == (
        "SELECT 1 FROM orders o WHERE (o.created_at IS NOT NULL)"
    )


def test_bracketed_transformation_keeps_expression():
    sql = "SELECT {[date_trunc('day', o.created_at)]:aggregation} FROM orders o"
    assert replace_parameters(sql) == (
        "SELECT (date_trunc('day', o.created_at)) FROM orders o"
    )


def test_quoted_column_in_brackets():
    sql = 'SELECT 1 FROM "billing"."Plan Changes" WHERE {["Changed At"]=timerange}'
    assert replace_parameters(sql) == (
        'SELECT 1 FROM "billing"."Plan Changes" WHERE ("Changed At" IS NOT NULL)'
    )


def test_bracket_inside_expression():
    sql = "SELECT 1 FROM t WHERE {[tags[1]]=tag_filter}"
    assert replace_parameters(sql) == "SELECT 1 FROM t WHERE (tags[1] IS NOT NULL)"


def test_bare_qualified_column():
    sql = "SELECT {o.created_at:aggregation} FROM orders o"
    assert replace_parameters(sql) == "SELECT (o.created_at) FROM orders o"


def test_spaces_inside_braces():
    sql = "SELECT 1 FROM t WHERE { [created_at] = timerange }"
    assert replace_parameters(sql) == "SELECT 1 FROM t WHERE (created_at IS NOT NULL)"


def test_value_becomes_null():
    sql = "SELECT 1 FROM orders WHERE created_at >= {reporting_period.start}"
    assert replace_parameters(sql) == "SELECT 1 FROM orders WHERE created_at >= NULL"


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT '{created_at=timerange}' FROM t", id="string-literal"),
        pytest.param("SELECT 'it''s {a=b}' FROM t", id="doubled-quote"),
        pytest.param('SELECT "{a=b}" FROM t', id="quoted-identifier"),
        pytest.param("SELECT 1 -- {a=timerange}\nFROM t", id="line-comment"),
        pytest.param("SELECT 1 /* {[a]=timerange} */ FROM t", id="block-comment"),
        pytest.param("SELECT $x${a=timerange}$x$ FROM t", id="dollar-quoted"),
        pytest.param("SELECT {'key': 1} FROM t", id="object-literal"),
        pytest.param("SELECT 1 FROM t WHERE {[a]=timerange", id="unclosed-brace"),
        pytest.param("SELECT 1 FROM t WHERE {[a=timerange}", id="unclosed-bracket"),
        pytest.param("SELECT 1 FROM t WHERE {a=}", id="missing-filter"),
    ],
)
def test_text_left_unchanged(sql):
    assert replace_parameters(sql) == sql


def test_parameter_after_string_replaced():
    sql = "SELECT 'a{b}' AS label FROM t WHERE {x=timerange}"
    assert replace_parameters(sql) == (
        "SELECT 'a{b}' AS label FROM t WHERE (x IS NOT NULL)"
    )


def test_parameter_after_comment_replaced():
    sql = "SELECT 1 -- {note}\nFROM t WHERE {x=timerange}"
    assert replace_parameters(sql) == "SELECT 1 -- {note}\nFROM t WHERE (x IS NOT NULL)"


def test_dollar_in_name_opens_nothing():
    sql = "SELECT sys$user FROM t WHERE {x=timerange} AND y = 'a$'"
    assert replace_parameters(sql) == (
        "SELECT sys$user FROM t WHERE (x IS NOT NULL) AND y = 'a$'"
    )


def test_sql_without_parameters_unchanged():
    sql = "SELECT * FROM orders WHERE status = 'open'"
    assert replace_parameters(sql) == sql


def test_generated_reports_lose_braces():
    # No generated query has a brace inside a string or a comment, so any
    # brace left over is a parameter that was not rewritten.
    for seed, report in generated_reports():
        replaced = replace_parameters(report.query)
        assert not re.search(r"[{}]", replaced), (seed, report.name, replaced)


def test_generated_reports_match_tables():
    for seed, report in generated_reports():
        expected = set(report.referenced_tables)
        found = dotted_names(replace_parameters(report.query))
        assert found == expected, (seed, report.name)


class StrictCollector(IngestResourcesStrategy):
    """Checks each declared model in strict mode and keeps the lineage."""

    def __init__(self):
        self.validator = Validator(strict=True)
        self.lineage = []

    def declare_resource(self, resource):
        self.validator.check_resource(resource)

    def declare_lineage(self, lineage):
        self.validator.check_lineage(lineage)
        self.lineage.append(lineage)

    def finalize(self):
        pass


def test_connector_lineage_matches_account():
    account = generate_account(8, reports_per_dashboard=5, seed=11)
    collector = StrictCollector()
    with CluvioTestServer(
        account, email=DEFAULT_EMAIL, password=DEFAULT_PASSWORD
    ) as server:
        credentials = {
            "email": DEFAULT_EMAIL,
            "password": DEFAULT_PASSWORD,
            "base_url": server.url,
        }
        CluvioIntegration(
            credentials=credentials, ingest_resources_strategy=collector
        ).start()

    found: dict[str, set[str]] = {}
    for lineage in collector.lineage:
        if not isinstance(lineage.from_identifier, TablesFromSQLQuery):
            continue
        report_id = lineage.to_identifier.databuilder_id
        for edge in expand_query_lineage(lineage, replace_parameters):
            table = edge.from_identifier
            parts = (table.cluster, table.database, table.schema, table.table)
            name = ".".join(part for part in parts if part)
            found.setdefault(report_id, set()).add(name)

    expected = {
        f"cluvio.report.{report.id}": set(report.referenced_tables)
        for report in account.reports
    }
    assert found == expected
    assert collector.validator.summary()["violations"] == 0
