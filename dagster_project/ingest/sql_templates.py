"""Render the ingestion SQL templates (``sql/*.sql``) for one contract table.

Templates only ever see names and rules from the contract; file names and file contents reach
DuckDB as bound parameters (``$path``, ``$source_file``...), never as SQL text.
"""

from __future__ import annotations

import re
from functools import cache

import jinja2

from dagster_project.ingest.contract import Column

_NUMERIC_PATTERNS = {
    "INTEGER": r"[+-]?[0-9]+",
    "BIGINT": r"[+-]?[0-9]+",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def sql_string(value: object) -> str:
    """A SQL string literal of a contract value."""
    return "'" + str(value).replace("'", "''") + "'"


def typed(column: Column) -> str:
    """The expression casting a staged text column to its contract type."""
    value = f'"{column.name}"'
    if column.type in _NUMERIC_PATTERNS or _DECIMAL.fullmatch(column.type):
        value = f"trim({value})"
    return f"try_cast({value} as {column.type})"


def type_violation(column: Column) -> str:
    """A condition true when a non-null staged value is not of the column's type."""
    pattern = _NUMERIC_PATTERNS.get(column.type)
    if decimal := _DECIMAL.fullmatch(column.type):
        pattern = rf"[+-]?[0-9]+(\.[0-9]{{1,{decimal.group(2)}}})?"
    invalid = f"{typed(column)} is null"
    if pattern:
        return f"(not regexp_full_match(trim(\"{column.name}\"), '{pattern}') or {invalid})"
    return invalid


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "sql"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["sql_string"] = sql_string
    env.globals.update(typed=typed, type_violation=type_violation)
    return env


def render(name: str, **context: object) -> list[str]:
    """The statements of template ``name``, rendered, one string per statement."""
    text = _environment().get_template(name).render(**context)
    statements = (s.strip() for s in re.split(r";\s*$", text, flags=re.MULTILINE))
    return [
        s
        for s in statements
        if s and not all(line.strip().startswith("--") for line in s.splitlines() if line.strip())
    ]
