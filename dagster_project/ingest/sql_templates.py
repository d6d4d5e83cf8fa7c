"""The ingestion SQL (``sql/*.sql``), with the helpers that turn contract rules into SQL."""

from __future__ import annotations

import re

from dagster_project.core.sql import SqlTemplates
from dagster_project.ingest.contract import Column

_NUMERIC_PATTERNS = {
    "INTEGER": r"[+-]?[0-9]+",
    "BIGINT": r"[+-]?[0-9]+",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


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


TEMPLATES = SqlTemplates(__package__, typed=typed, type_violation=type_violation)
statement = TEMPLATES.statement
