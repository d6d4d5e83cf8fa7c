"""Two builds of the same tables, compared row for row (as multisets, doubles to the last bit)."""

from pathlib import Path

import duckdb

# Lineage columns that differ between two builds of the same data: when the rows were loaded
# (separate warehouses load at different times) and which dbt invocation wrote them.
LOADED_AT = "_loaded_at"
INVOCATION = "_dbt_invocation_id"
LINEAGE = (LOADED_AT, INVOCATION)


def attach(**databases: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, path in databases.items():
        con.execute(f"attach '{path}' as {name} (read_only)")
    return con


def columns(con: duckdb.DuckDBPyConnection, database: str, model: str, *excluded: str) -> str:
    """The columns of `model` (schema.name) in `database`, without `excluded`."""
    schema, name = model.split(".")
    names = [
        column
        for (column,) in con.execute(
            "select column_name from duckdb_columns() where database_name = $d"
            " and schema_name = $s and table_name = $t order by column_index",
            {"d": database, "s": schema, "t": name},
        ).fetchall()
        if column not in excluded
    ]
    assert names, f"{database}.{model} not found"
    return ", ".join(names)


def differences(
    con: duckdb.DuckDBPyConnection, left: str, right: str, model: str, *excluded: str
) -> tuple[int, int]:
    """(rows only in left, rows only in right) of `model` (schema.name), as multisets,
    without `excluded`."""
    select = columns(con, left, model, *excluded)
    only = [
        con.execute(
            f"select count(*) from (select {select} from {a}.{model}"
            f" except all select {select} from {b}.{model})"
        ).fetchall()[0][0]
        for a, b in ((left, right), (right, left))
    ]
    return only[0], only[1]
