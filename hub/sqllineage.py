"""Table lineage from SQL: which tables a query reads, found with sqlglot.

A connector declares ``TablesFromSQLQuery(sql=...)`` as a lineage source, and
:func:`tables_in_sql` turns that query into the ``ExternalTable`` ends it
stands for. Run the connector's ``prepare_sql`` first when its queries carry
template syntax, such as Cluvio's filter parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope

from hub.errors import SQLParseError
from hub.sdk.models import DeclaredLineage, ExternalTable, TablesFromSQLQuery

# A table reference with more parts than database.schema.table carries the
# cluster (or server, or project) in front. With more than four parts, the
# leading ones are joined with dots into ``cluster``.
_NAMED_PARTS = 4

# Sorts tables whose position sqlglot did not record after all the others.
_UNKNOWN_POSITION = float("inf")

# The reprs of a token and of an expression class in sqlglot's parse errors.
_TOKEN_REPR = re.compile(
    r"<Token token_type: TokenType\.(\w+), text: .*?, line: \d+, col: \d+, "
    r"start: \d+, end: \d+, comments: \[.*?\]>",
    re.DOTALL,
)
_CLASS_REPR = re.compile(r"<class 'sqlglot\.(?:\w+\.)*(\w+)'>")


def tables_in_sql(sql: str, dialect: str | None = None) -> list[ExternalTable]:
    """Return the tables that ``sql`` reads, in order of first appearance.

    ``sql`` may contain several statements separated by semicolons. CTE names,
    derived tables and table functions are not tables, and a table that a
    statement only writes to (the target of INSERT, CREATE ... AS, UPDATE,
    DELETE or MERGE) is left out unless the query also reads it. Identifiers
    keep the spelling of the query: quotes are removed, and sqlglot keeps the
    letter case of quoted and unquoted names as written. A table named the
    same way twice is returned once.

    Raises :class:`hub.errors.SQLParseError` when the query does not parse in
    ``dialect`` (sqlglot's dialect name, None for its default dialect), or
    when sqlglot has no dialect of that name.
    """
    statements = _parse(sql, dialect)

    found: dict[tuple, tuple[int, float, ExternalTable]] = {}
    for index, statement in enumerate(statements):
        for table in _read_tables(statement):
            end = _external_table(table)
            key = (end.cluster, end.database, end.schema, end.table)
            position = (index, _position(table), end)
            if key not in found or position[:2] < found[key][:2]:
                found[key] = position

    ordered = sorted(found.values(), key=lambda entry: entry[:2])
    return [end for _, _, end in ordered]


def expand_query_lineage(
    lineage: DeclaredLineage,
    prepare_sql: Callable[[str], str] | None = None,
    dialect: str | None = None,
) -> list[DeclaredLineage]:
    """Replace a ``tables_from_query`` source with one edge per table it reads.

    Returns ``[lineage]`` unchanged when its source is not a query. Otherwise
    the query goes through ``prepare_sql`` (a connector's ``prepare_sql``
    classmethod) and :func:`tables_in_sql`, and each table becomes the source
    of an edge to the same ``to_identifier``. A query that reads no table
    returns an empty list. Raises :class:`hub.errors.SQLParseError` as
    :func:`tables_in_sql` does.
    """
    source = lineage.from_identifier
    if not isinstance(source, TablesFromSQLQuery):
        return [lineage]

    sql = source.sql if prepare_sql is None else prepare_sql(source.sql)
    return [
        DeclaredLineage(from_identifier=table, to_identifier=lineage.to_identifier)
        for table in tables_in_sql(sql, dialect)
    ]


def _parse(sql: str, dialect: str | None) -> list[exp.Expression]:
    try:
        parsed = sqlglot.parse(sql, read=dialect)
    except ParseError as error:
        raise SQLParseError(_describe_parse_error(error, dialect)) from error
    except TokenError as error:
        # sqlglot's message quotes part of the query, which may hold literals
        # the source considers private, so the message gives no SQL text.
        raise SQLParseError(
            f"SQL does not parse in {_dialect_name(dialect)}: a string, "
            "quoted identifier or comment is not closed; check the query's quotes"
        ) from error
    except ValueError as error:
        raise SQLParseError(
            f"unknown SQL dialect {dialect!r}; set the connector's sql_dialect "
            f"to a sqlglot dialect name such as 'postgres' or 'snowflake'"
        ) from error

    statements = [statement for statement in parsed if statement is not None]
    for statement in statements:
        _reject_unparsed(statement, dialect)
    return statements


def _describe_parse_error(error: ParseError, dialect: str | None) -> str:
    where = ""
    description = "invalid syntax"
    if error.errors:
        first = error.errors[0]
        description = _readable(first.get("description") or description)
        where = f" at line {first.get('line')}, column {first.get('col')}"
    return (
        f"SQL does not parse in {_dialect_name(dialect)}{where}: "
        f"{description}; check the query, or the connector's sql_dialect"
    )


def _readable(description: str) -> str:
    """Replace the token and class reprs in a sqlglot message with their names.

    A token's repr carries its text, which for a literal is part of the query.
    """
    description = _TOKEN_REPR.sub(_token_name, description)
    return _CLASS_REPR.sub(r"\1", description)


def _token_name(match: re.Match) -> str:
    kind = match.group(1)
    return "the end of the query" if kind == "SENTINEL" else kind


def _reject_unparsed(statement: exp.Expression, dialect: str | None) -> None:
    # sqlglot keeps a statement it has no grammar for as an opaque Command
    # instead of failing. The tables such a statement reads are unknown, so
    # an empty result would understate its lineage.
    if isinstance(statement, exp.Command):
        keyword = str(statement.this).upper()
        raise SQLParseError(
            f"SQL does not parse in {_dialect_name(dialect)}: sqlglot has "
            f"no grammar for this {keyword} statement, so the tables it reads "
            "are unknown"
        )


def _dialect_name(dialect: str | None) -> str:
    return f"dialect {dialect!r}" if dialect else "sqlglot's default dialect"


def _read_tables(statement: exp.Expression) -> list[exp.Table]:
    """Return the table nodes of ``statement`` that a query reads from.

    sqlglot's scopes resolve each name in FROM and JOIN to a CTE, a derived
    table or a real table, following SQL's scoping: inside a non-recursive
    CTE, a name equal to the CTE's own name is the real table. Write targets
    belong to no scope, so they never appear here.
    """
    tables: dict[int, exp.Table] = {}
    for scope in traverse_scope(statement):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and _is_named_table(source):
                tables[id(source)] = source
    return list(tables.values())


def _is_named_table(table: exp.Table) -> bool:
    # Table functions (generate_series(...), UNNEST(...)) are Table nodes
    # whose ``this`` is a function call instead of a name.
    return isinstance(table.this, (exp.Identifier, exp.Dot)) and bool(table.name)


def _external_table(table: exp.Table) -> ExternalTable:
    names = [part.name for part in table.parts]
    if len(names) > _NAMED_PARTS:
        cut = len(names) - _NAMED_PARTS + 1
        names = [".".join(names[:cut]), *names[cut:]]

    padded = [None] * (_NAMED_PARTS - len(names)) + names
    cluster, database, schema, name = padded
    return ExternalTable(cluster=cluster, database=database, schema=schema, table=name)


def _position(table: exp.Table) -> float:
    meta = table.parts[-1].meta if table.parts else {}
    start = meta.get("start")
    return _UNKNOWN_POSITION if start is None else start
