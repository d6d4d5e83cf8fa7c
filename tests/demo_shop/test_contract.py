"""Clean demo data satisfies the landing contract: it must load with zero rejected rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dagster_project.ingest import contract
from demo_shop import GenerationSummary
from demo_shop.truths import DEMO
from demo_shop.writer import file_format

TABLES = list(contract.tables())


def _header(path: Path) -> list[str]:
    ext = file_format(path.parent.parent.name)
    if ext == "parquet":
        return pq.read_schema(path).names
    if ext == "jsonl":
        return list(json.loads(path.read_text().splitlines()[0]))
    opener = gzip.open if ext.endswith(".gz") else open
    with opener(path, "rt") as f:
        return f.readline().rstrip("\n").split(",")


@pytest.mark.parametrize("table", TABLES)
def test_table_is_delivered_with_contract_columns_in_order(
    table: str, demo: tuple[Path, GenerationSummary]
) -> None:
    out, summary = demo
    assert summary.rows[table] > 0
    files = sorted((out / table).glob(f"dt=*/{table}.{file_format(table)}"))
    assert files
    expected = list(contract.table(table).column_names)
    for path in files[:: max(1, len(files) // 10)]:
        assert _header(path) == expected, path


@pytest.mark.parametrize("table", TABLES)
def test_rows_obey_column_rules(table: str, landing: duckdb.DuckDBPyConnection) -> None:
    """Not-null, accepted values, min/max: every violation counted, none expected."""
    problems = {}
    for column in contract.table(table).columns:
        rules = []
        if not column.nullable:
            rules.append(f"{column.name} is null")
        if column.values:
            accepted = ", ".join(f"'{v}'" for v in column.values)
            rules.append(f"{column.name} not in ({accepted})")
        if column.min is not None:
            rules.append(f"{column.name} < {column.min}")
        if column.max is not None:
            rules.append(f"{column.name} > {column.max}")
        for rule in rules:
            count = landing.execute(f"select count(*) from {table} where {rule}").fetchone()[0]
            if count:
                problems[rule] = count
    assert problems == {}


@pytest.mark.parametrize("table", TABLES)
def test_keys_unique_per_version(table: str, landing: duckdb.DuckDBPyConnection) -> None:
    key = ", ".join(contract.table(table).unique_key)
    duplicated = landing.execute(
        f"select count(*) from (select {key} from {table} group by all having count(*) > 1)"
    ).fetchone()[0]
    assert duplicated == 0


@pytest.mark.parametrize("table", TABLES)
def test_timestamps_not_after_the_folders_business_day(
    table: str, landing: duckdb.DuckDBPyConnection
) -> None:
    day_end = f"timezone('{DEMO.timezone}', cast(dt + 1 as timestamp))"
    for column in contract.table(table).columns:
        if column.not_future:
            late = landing.execute(
                f"select count(*) from {table} where {column.name} >= {day_end}"
            ).fetchone()[0]
            assert late == 0, column.name


REFERENCES = [
    (table.name, column.name, column.references)
    for table in contract.tables().values()
    for column in table.columns
    if column.references
]


@pytest.mark.parametrize(("table", "column", "references"), REFERENCES)
def test_foreign_keys_resolve(
    table: str, column: str, references: str, landing: duckdb.DuckDBPyConnection
) -> None:
    parent, parent_column = references.split(".")
    orphans = landing.execute(
        f"select count(*) from {table} where {column} is not null and {column} not in "
        f"(select {parent_column} from {parent})"
    ).fetchone()[0]
    assert orphans == 0


def test_version_rows_land_in_the_folder_of_their_change(
    landing: duckdb.DuckDBPyConnection,
) -> None:
    """A re-delivered row sits in the folder of the business date of its updated_at."""
    for name, table in contract.tables().items():
        if table.version_column:
            misplaced = landing.execute(
                f"select count(*) from {name} where cast(timezone('{DEMO.timezone}', "
                f"{table.version_column}) as date) <> dt"
            ).fetchone()[0]
            assert misplaced == 0, name
