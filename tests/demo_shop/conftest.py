"""DuckDB views over the demo landing zone (tests/conftest.py ``demo``: generated once per
test session at the demo size, ``truths.DEMO``, for which the truths' tolerances are stated)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import contract
from demo_shop import GenerationSummary
from demo_shop.writer import file_format


def reader(landing: Path, table: str, pattern: str | None = None) -> str:
    """DuckDB table function reading every file of ``table`` as text, plus its folder date."""
    ext = file_format(table)
    files = f"{landing.as_posix()}/{table}/dt=*/{pattern or table + '.' + ext}"
    names = contract.table(table).column_names
    if ext == "parquet":
        return f"read_parquet('{files}', filename = true)"
    if ext == "jsonl":
        columns = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
        return (
            f"read_json('{files}', format = 'newline_delimited', columns = {{{columns}}}, "
            "filename = true)"
        )
    columns = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
    return f"read_csv('{files}', header = true, columns = {{{columns}}}, filename = true)"


def typed_select(table: str, source: str) -> str:
    """Cast every column to its contract type (failing loudly if one does not cast)."""
    casts = ", ".join(
        f"cast({c.name} as {c.type}) as {c.name}" for c in contract.table(table).columns
    )
    return (
        f"select {casts}, cast(regexp_extract(filename, 'dt=([0-9-]+)', 1) as date) as dt, "
        f"filename from {source}"
    )


@pytest.fixture(scope="session")
def landing(demo: tuple[Path, GenerationSummary]) -> Iterator[duckdb.DuckDBPyConnection]:
    """Views ``<table>`` (typed rows of every delivery) and ``latest_<table>`` (one per key)."""
    out, _ = demo
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for name, table in contract.tables().items():
        con.execute(f"create table {name} as {typed_select(name, reader(out, name))}")
        if table.version_column:
            key = ", ".join(table.key)
            con.execute(
                f"create view latest_{name} as select * from {name} qualify row_number() "
                f"over (partition by {key} order by {table.version_column} desc) = 1"
            )
        else:
            con.execute(f"create view latest_{name} as select * from {name}")
    yield con
    con.close()
