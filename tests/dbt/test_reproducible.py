"""Two builds over the same rows publish the same values, to the last bit of every double.

The demo's build (183 days: big enough that DuckDB's threads split the work) is built again
over the same loaded rows, every model that is not incremental rebuilt from scratch, and each
table of staging, intermediate and marts must equal the first build's exactly. A sum of
doubles depends on the order of its terms, and the threads add them in a different order from
build to build: the models sum DECIMALs instead (macros/exact.sql). Before they did, this test
found 311 rows of int_product_sales_daily and 2,641 of kpi_hot_sellers_weekly changed, and
another rebuild 65 rows of kpi_daily (delivery_days) and a scorecard row.
"""

import shutil

import duckdb

from tests.dbt_cli import run_dbt

SCHEMAS = ("staging", "intermediate", "marts")


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    return con.execute(
        "select schema_name, table_name from duckdb_tables()"
        " where database_name = $db and schema_name in $schemas order by all",
        {"db": database, "schemas": list(SCHEMAS)},
    ).fetchall()


def test_a_rebuild_over_the_same_rows_publishes_the_same_values(demo_pipeline, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    rebuilt = data_dir / "warehouse" / "build.duckdb"
    shutil.copy(demo_pipeline.build_db, rebuilt)
    completed = run_dbt(
        tmp_path, "run", "--exclude", "config.materialized:incremental", data_dir=data_dir
    )
    assert completed.returncode == 0, completed.stdout[-4000:]

    with duckdb.connect() as con:
        con.execute(f"attach '{demo_pipeline.build_db}' as first (read_only)")
        con.execute(f"attach '{rebuilt}' as again (read_only)")
        tables = _tables(con, "first")
        assert tables == _tables(con, "again")
        assert ("marts", "kpi_daily") in tables
        differing = {}
        for schema, name in tables:
            table = f'{schema}."{name}"'
            # the dbt invocation that wrote a row differs by design; nothing else may
            columns = [
                f'"{column}"'
                for (column,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'first'"
                    " and schema_name = $s and table_name = $t and column_name <> $invocation"
                    " order by column_index",
                    {"s": schema, "t": name, "invocation": "_dbt_invocation_id"},
                ).fetchall()
            ]
            select = f"(select {', '.join(columns)} from {{db}}.{table})"
            only_first = con.execute(
                f"select count(*) from ({select.format(db='first')}"
                f" except all {select.format(db='again')})"
            ).fetchone()[0]
            only_again = con.execute(
                f"select count(*) from ({select.format(db='again')}"
                f" except all {select.format(db='first')})"
            ).fetchone()[0]
            if only_first or only_again:
                differing[table] = (only_first, only_again)
    assert not differing, f"(rows only in the first build, only in the rebuild): {differing}"
