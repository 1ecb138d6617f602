"""Tests of hub.sqllineage: the tables a SQL query reads."""

import pytest

from hub.errors import SQLParseError, ValidationError
from hub.sdk import (
    DeclaredLineage,
    ExternalTable,
    InternalResource,
    TablesFromSQLQuery,
)
from hub.sqllineage import expand_query_lineage, tables_in_sql

CHART = InternalResource(databuilder_id="cluvio.report.1")


def names(sql: str, dialect: str | None = None) -> list[str]:
    """Return the tables ``sql`` reads as dotted names, in the returned order."""
    dotted = []
    for table in tables_in_sql(sql, dialect):
        parts = (table.cluster, table.database, table.schema, table.table)
        dotted.append(".".join(part for part in parts if part))
    return dotted


def test_single_table_returns_external_table():
    tables = tables_in_sql("SELECT id FROM orders")
    assert tables == [ExternalTable(table="orders")]


def test_three_part_name_maps_fields():
    [table] = tables_in_sql("SELECT * FROM analytics.finance.revenue_daily")
    assert table.database == "analytics"
    assert table.schema == "finance"
    assert table.table == "revenue_daily"
    assert table.cluster is None


def test_two_part_name_maps_schema():
    [table] = tables_in_sql("SELECT * FROM marketing.campaigns")
    assert table.database is None
    assert table.schema == "marketing"
    assert table.table == "campaigns"


def test_four_part_name_fills_cluster():
    [table] = tables_in_sql("SELECT * FROM srv.db.dbo.users", dialect="tsql")
    assert table.cluster == "srv"
    assert table.database == "db"
    assert table.schema == "dbo"
    assert table.table == "users"


def test_quoted_identifiers_keep_spelling():
    sql = (
        'SELECT u."Plan" FROM "analytics"."core"."Users" u JOIN "Plan Changes" p ON 1=1'
    )
    assert names(sql) == ["analytics.core.Users", "Plan Changes"]


def test_unquoted_identifiers_keep_case():
    assert names("SELECT * FROM Sales.Orders") == ["Sales.Orders"]


def test_cte_name_is_not_table():
    sql = """
        WITH recent AS (SELECT * FROM orders WHERE created_at > now())
        SELECT * FROM recent
    """
    assert names(sql) == ["orders"]


def test_cte_shadowing_table_keeps_inner():
    # Inside the CTE's own body, "orders" is still the real table; after it,
    # "orders" is the CTE. The qualified reference is always the real table.
    sql = """
        WITH orders AS (SELECT * FROM orders WHERE status = 'paid')
        SELECT o.id FROM orders o JOIN public.orders p ON p.id = o.id
    """
    assert names(sql) == ["orders", "public.orders"]


def test_cte_shadowing_without_inner_read():
    sql = """
        WITH customers AS (SELECT 1 AS id)
        SELECT * FROM customers JOIN accounts a ON a.id = customers.id
    """
    assert names(sql) == ["accounts"]


def test_recursive_cte_is_not_table():
    sql = """
        WITH RECURSIVE tree AS (
            SELECT id, parent_id FROM categories WHERE parent_id IS NULL
            UNION ALL
            SELECT c.id, c.parent_id FROM categories c JOIN tree t ON c.parent_id = t.id
        )
        SELECT * FROM tree
    """
    assert names(sql) == ["categories"]


def test_join_kinds_all_found():
    sql = """
        SELECT *
        FROM a
        INNER JOIN b ON b.id = a.id
        LEFT OUTER JOIN c ON c.id = a.id
        RIGHT JOIN d ON d.id = a.id
        FULL OUTER JOIN e ON e.id = a.id
        CROSS JOIN f
        JOIN g USING (id), h
    """
    assert names(sql) == ["a", "b", "c", "d", "e", "f", "g", "h"]


def test_subquery_in_from():
    sql = """
        SELECT country, AVG(views)
        FROM (SELECT s.country, COUNT(*) AS views FROM web.page_views v
              JOIN web.sessions s ON s.id = v.session_id GROUP BY 1) per_session
        GROUP BY country
    """
    assert names(sql) == ["web.page_views", "web.sessions"]


def test_subquery_in_where():
    sql = """
        SELECT o.id FROM orders o
        WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)
          AND o.customer_id IN (SELECT id FROM customers WHERE country = 'NL')
          AND o.total > (SELECT AVG(total) FROM archive.orders)
    """
    assert names(sql) == ["orders", "payments", "customers", "archive.orders"]


def test_union_reads_both_sides():
    sql = (
        "SELECT id FROM current_users UNION SELECT id FROM old.users UNION ALL SELECT 1"
    )
    assert names(sql) == ["current_users", "old.users"]


def test_window_function_query():
    sql = """
        SELECT customer_id,
               SUM(amount) OVER (PARTITION BY customer_id ORDER BY paid_at
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               ROW_NUMBER() OVER w
        FROM billing.payments
        WINDOW w AS (PARTITION BY customer_id ORDER BY paid_at DESC)
    """
    assert names(sql) == ["billing.payments"]


def test_lower_and_upper_keywords():
    lower = "select a.id from a join b on b.id = a.id where a.x in (select x from c)"
    assert names(lower) == ["a", "b", "c"]
    assert names(lower.upper()) == ["A", "B", "C"]


def test_repeated_table_returned_once():
    sql = """
        SELECT * FROM orders o1 JOIN orders o2 ON o1.parent = o2.id;
        SELECT 1 FROM orders
    """
    assert names(sql) == ["orders"]


def test_several_statements_in_order():
    sql = "SELECT * FROM first_table; SELECT * FROM second_table;"
    assert names(sql) == ["first_table", "second_table"]


def test_insert_target_excluded():
    sql = (
        "INSERT INTO reporting.daily SELECT * FROM raw.events WHERE day = CURRENT_DATE"
    )
    assert names(sql) == ["raw.events"]


def test_create_as_target_excluded():
    sql = "CREATE TABLE summary AS SELECT region, COUNT(*) FROM sales GROUP BY region"
    assert names(sql) == ["sales"]


def test_insert_reading_own_target():
    sql = "INSERT INTO events SELECT * FROM events WHERE day = CURRENT_DATE - 1"
    assert names(sql) == ["events"]


def test_update_and_delete_targets_excluded():
    sql = """
        UPDATE accounts SET tier = 'gold' WHERE id IN (SELECT account_id FROM vip);
        DELETE FROM sessions WHERE user_id IN (SELECT id FROM banned_users)
    """
    assert names(sql) == ["vip", "banned_users"]


def test_table_function_is_not_table():
    sql = "SELECT * FROM generate_series(1, 10) g JOIN days d ON d.n = g"
    assert names(sql, dialect="postgres") == ["days"]


def test_bigquery_backticks():
    sql = """
        SELECT user_id, COUNT(*) FROM `my-project.analytics.events`
        WHERE event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)
        GROUP BY user_id
    """
    [table] = tables_in_sql(sql, dialect="bigquery")
    assert table.database == "my-project"
    assert table.schema == "analytics"
    assert table.table == "events"


def test_snowflake_qualify_and_flatten():
    sql = """
        SELECT o.id, f.value:sku::string AS sku
        FROM PROD.SALES.ORDERS o, LATERAL FLATTEN(input => o.items) f
        QUALIFY ROW_NUMBER() OVER (PARTITION BY o.id ORDER BY o.updated_at DESC) = 1
    """
    assert names(sql, dialect="snowflake") == ["PROD.SALES.ORDERS"]


def test_empty_sql_reads_nothing():
    assert tables_in_sql("  ;  ") == []


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELEC * FROM orders", id="misspelled-keyword"),
        pytest.param("SELECT * FROM (", id="unclosed-parenthesis"),
        pytest.param("SELECT 'unclosed FROM orders", id="unclosed-string"),
        pytest.param("SELECT a b c FROM orders", id="unexpected-token"),
        pytest.param("SELECT * FROM orders WHERE AND x = 1", id="dangling-and"),
    ],
)
def test_invalid_sql_raises(sql):
    with pytest.raises(SQLParseError):
        tables_in_sql(sql)


def test_parse_error_is_validation_error():
    assert issubclass(SQLParseError, ValidationError)


def test_parse_error_names_position():
    with pytest.raises(SQLParseError, match="line 1, column"):
        tables_in_sql("SELECT * FROM (")


def test_parse_error_omits_query_text():
    with pytest.raises(SQLParseError) as caught:
        tables_in_sql("SELECT 'secret-literal FROM orders")
    assert "secret-literal" not in str(caught.value)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM JOIN orders", "Expected table name but got JOIN"),
        ("SELECT a FROM", "Expected table name but got the end of the query"),
        ("SELECT * FROM orders AS 'x' WHERE", "'this' missing for Where;"),
    ],
    ids=["keyword-token", "end-of-query", "expression-class"],
)
def test_parse_error_names_token_kind(sql, expected):
    with pytest.raises(SQLParseError) as caught:
        tables_in_sql(sql)

    message = str(caught.value)
    assert expected in message
    assert "<Token" not in message
    assert "<class" not in message


def test_unknown_statement_raises():
    with pytest.raises(SQLParseError, match="no grammar"):
        tables_in_sql("VACUUM FULL orders", dialect="postgres")


def test_unknown_dialect_raises():
    with pytest.raises(SQLParseError, match="'nosuch'"):
        tables_in_sql("SELECT 1", dialect="nosuch")


def test_expand_keeps_other_lineage():
    lineage = DeclaredLineage(
        from_identifier=ExternalTable(table="t"), to_identifier=CHART
    )
    assert expand_query_lineage(lineage) == [lineage]


def test_expand_query_one_edge_per_table():
    query = TablesFromSQLQuery(sql="SELECT * FROM a JOIN s.b ON a.id = b.id")
    lineage = DeclaredLineage(from_identifier=query, to_identifier=CHART)
    assert expand_query_lineage(lineage) == [
        DeclaredLineage(from_identifier=ExternalTable(table="a"), to_identifier=CHART),
        DeclaredLineage(
            from_identifier=ExternalTable(schema="s", table="b"), to_identifier=CHART
        ),
    ]


def test_expand_applies_prepare_sql():
    query = TablesFromSQLQuery(sql="SELECT * FROM placeholder")
    lineage = DeclaredLineage(from_identifier=query, to_identifier=CHART)

    def prepare(sql: str) -> str:
        return sql.replace("placeholder", "real_table")

    [expanded] = expand_query_lineage(lineage, prepare, dialect="postgres")
    assert expanded.from_identifier == ExternalTable(table="real_table")


def test_expand_invalid_query_raises():
    query = TablesFromSQLQuery(sql="SELECT a b c FROM t")
    lineage = DeclaredLineage(from_identifier=query, to_identifier=CHART)
    with pytest.raises(SQLParseError):
        expand_query_lineage(lineage)
