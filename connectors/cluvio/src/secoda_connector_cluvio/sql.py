"""Plain SQL from Cluvio report queries, for the hub's SQL lineage parser.

Cluvio binds dashboard filters into report SQL with expressions in curly
braces, which are not SQL. Most parsers reject them, and sqlglot 30 misreads
some as struct literals. Cluvio's filter documentation names three forms:

- a condition, ``{[<expr>]=<filter>}`` or ``{<column>=<filter>}``, which
  Cluvio expands to a boolean such as ``created_at >= ... AND created_at < ...``;
- a transformation, ``{[<expr>]:<filter>}`` or ``{<column>:<filter>}``, which
  expands to an expression of ``<expr>``, such as a date truncation;
- a value, ``{<filter>.<selector>}``, such as ``{my_date_range.start}``.

:func:`replace_parameters` rewrites each into SQL that parses and still names
every column the filter applies to, so SQL lineage finds the same tables that
the expanded query reads.
"""

from __future__ import annotations

import re

# A filter variable or selector name, such as timerange, aggregation or start.
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"

# One part of a column name: a plain word, or a quoted identifier in double
# quotes ("Changed At") or backticks.
_IDENTIFIER = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")*"|`[^`]*`)'

# The bracket-free forms: {created_at=timerange}, {o.created_at:aggregation}.
_BARE_FILTER = re.compile(
    rf"\{{\s*(?P<expr>{_IDENTIFIER}(?:\s*\.\s*{_IDENTIFIER})*)\s*"
    rf"(?P<operator>[=:])\s*(?P<filter>{_NAME})\s*\}}"
)

# The value form: {reporting_period.start}.
_VALUE = re.compile(rf"\{{\s*{_NAME}\s*\.\s*{_NAME}\s*\}}")

# After the closing bracket of {[<expr>]=<filter>} or {[<expr>]:<filter>}.
_BRACKET_TAIL = re.compile(rf"\s*(?P<operator>[=:])\s*(?P<filter>{_NAME})\s*\}}")

# The next place where the scan must look closer: a quote, a comment, a
# dollar-quoted string or a brace.
_INTERESTING = re.compile(r"""['"`{$]|--|/\*""")

_DOLLAR_TAG = re.compile(rf"\$(?:{_NAME})?\$")

# The replacement of a value parameter. NULL is valid wherever SQL expects a value,
# in every dialect, and claims no type, where a made-up date or number would.
VALUE_REPLACEMENT = "NULL"


def replace_parameters(sql: str) -> str:
    """Return ``sql`` with each Cluvio filter parameter rewritten as plain SQL.

    A condition becomes ``(<expr> IS NOT NULL)``: one boolean predicate, valid
    in every SQL dialect, that names the expression once and compares it with
    no invented literal. A transformation becomes ``(<expr>)``, and a value
    becomes ``NULL``. Braces inside string literals, quoted identifiers and
    comments are left alone, and so are braces that match none of Cluvio's
    forms (a Snowflake or DuckDB object literal, for example).
    """
    pieces: list[str] = []
    copied = 0
    index = 0
    while True:
        match = _INTERESTING.search(sql, index)
        if match is None:
            break

        start = match.start()
        token = match.group()
        if token == "{":
            replaced = _replace_parameter(sql, start)
            if replaced is None:
                index = start + 1
                continue
            text, end = replaced
            pieces.append(sql[copied:start])
            pieces.append(text)
            copied = index = end
        else:
            index = _skip_literal(sql, start, token)

    pieces.append(sql[copied:])
    return "".join(pieces)


def _replace_parameter(sql: str, start: int) -> tuple[str, int] | None:
    """Return the replacement of the parameter at ``start`` and where it ends.

    Returns None when the brace opens no Cluvio parameter.
    """
    bracket = _skip_spaces(sql, start + 1)
    if bracket < len(sql) and sql[bracket] == "[":
        return _replace_bracketed(sql, bracket)

    bare = _BARE_FILTER.match(sql, start)
    if bare is not None:
        text = _rewrite(bare.group("expr"), bare.group("operator"))
        return text, bare.end()

    value = _VALUE.match(sql, start)
    if value is not None:
        return VALUE_REPLACEMENT, value.end()
    return None


def _replace_bracketed(sql: str, bracket: int) -> tuple[str, int] | None:
    closing = _find_closing_bracket(sql, bracket)
    if closing is None:
        return None

    tail = _BRACKET_TAIL.match(sql, closing + 1)
    if tail is None:
        return None

    expression = sql[bracket + 1 : closing].strip()
    if not expression:
        return None
    return _rewrite(expression, tail.group("operator")), tail.end()


def _rewrite(expression: str, operator: str) -> str:
    if operator == "=":
        return f"({expression} IS NOT NULL)"
    return f"({expression})"


def _find_closing_bracket(sql: str, bracket: int) -> int | None:
    """Return the index of the ``]`` that closes the ``[`` at ``bracket``."""
    depth = 0
    index = bracket
    while index < len(sql):
        char = sql[index]
        if char in "'\"`":
            index = _skip_literal(sql, index, char)
            continue

        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
        elif char in "{}":
            # A brace inside the brackets means the parameter is malformed,
            # so the scan stops instead of swallowing the rest of the query.
            return None
        index += 1
    return None


def _skip_literal(sql: str, start: int, token: str) -> int:
    """Return the index just past the literal or comment opened at ``start``.

    An unclosed literal or comment runs to the end of ``sql``.
    """
    if token == "--":
        end = sql.find("\n", start)
        return len(sql) if end == -1 else end + 1

    if token == "/*":
        end = sql.find("*/", start + 2)
        return len(sql) if end == -1 else end + 2

    if token == "$":
        return _skip_dollar_quoted(sql, start)
    return _skip_quoted(sql, start, token)


def _skip_quoted(sql: str, start: int, quote: str) -> int:
    # NOTE: a doubled quote is the only escape recognised, as in standard SQL.
    # A MySQL string with a backslash-escaped quote ('it\'s') ends early here,
    # and parameters after it may then be left unreplaced.
    index = start + 1
    while True:
        end = sql.find(quote, index)
        if end == -1:
            return len(sql)
        if sql.startswith(quote, end + 1):
            index = end + 2
            continue
        return end + 1


def _skip_dollar_quoted(sql: str, start: int) -> int:
    # PostgreSQL's $$...$$ and $tag$...$tag$ strings. A lone $ (a positional
    # parameter such as $1) opens nothing, and neither does a $ inside a name
    # such as Snowflake's or Oracle's sys$user.
    tag = _DOLLAR_TAG.match(sql, start)
    follows_name = start > 0 and (sql[start - 1].isalnum() or sql[start - 1] == "_")
    if tag is None or follows_name:
        return start + 1

    end = sql.find(tag.group(), tag.end())
    return len(sql) if end == -1 else end + len(tag.group())


def _skip_spaces(sql: str, index: int) -> int:
    while index < len(sql) and sql[index].isspace():
        index += 1
    return index
