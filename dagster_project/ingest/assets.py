"""Raw-layer assets: one per contract table, loading its landing files into ``raw.<table>``."""

import time

import dagster as dg
import duckdb

from dagster_project.ingest import contract
from dagster_project.ingest.contract import Table
from dagster_project.ingest.loader import FileOutcome, TableLoader, absent_sources
from dagster_project.ingest.sql_templates import statement
from dagster_project.partitions import DAILY, SINGLE_RUN, window
from dagster_project.resources import WarehouseResource

PROGRESS_EVERY_S = 5.0


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def _raw_asset(table: Table) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(table.name),
        group_name="raw",
        kinds={"duckdb"},
        partitions_def=DAILY,
        backfill_policy=SINGLE_RUN,
        description=f"{table.description} Source system: {table.source_system}. "
        f"Key: {', '.join(table.key)}. A partition loads the new or changed files of "
        f"landing/{table.name}/dt=<day>/.",
        metadata={"contract/columns": ", ".join(table.column_names)},
    )
    def load_raw_table(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        settings = warehouse.settings()
        first, last = days = window(context)
        started = last_report = time.monotonic()

        def progress(done: int, total: int, outcome: FileOutcome) -> None:
            nonlocal last_report
            if outcome.status == "failed":
                context.log.error(outcome.message)
            if time.monotonic() - last_report >= PROGRESS_EVERY_S or done == total:
                last_report = time.monotonic()
                context.log.info(f"raw.{table.name}: {done}/{total} files checked")

        with warehouse.connect() as con:
            loader = TableLoader(
                con,
                settings.landing_dir,
                table,
                context.run.run_id,
                max_redelivery_drop=settings.max_redelivery_drop,
            )
            result = loader.load(progress, days)
            absent = table.name in absent_sources(con)
        for message in result.cleared:
            context.log.info(message)
        if absent:
            context.log.warning(
                f"raw.{table.name}: no files delivered in landing/{table.name}/ "
                "(source absent): the table is empty and the KPIs that need it are left out"
            )
        return dg.MaterializeResult(
            metadata={
                "days": f"{first} .. {last}",
                "files_total": len(result.outcomes),
                "files_loaded": result.files_loaded,
                "files_unchanged": result.files_unchanged,
                "files_failed": len(result.failures),
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "source_absent": absent,
                "seconds": round(time.monotonic() - started, 3),
            }
        )

    return load_raw_table


def _foreign_keys(table: Table) -> list[tuple[str, str, str]]:
    return [
        (column.name, *column.references.split("."))
        for column in table.columns
        if column.references
    ]


def _contract_check(table: Table) -> dg.AssetChecksDefinition:
    parents = sorted({parent for _, parent, _ in _foreign_keys(table)} - {table.name})

    @dg.asset_check(
        asset=raw_key(table.name),
        name="contract",
        additional_deps=[raw_key(parent) for parent in parents],
        blocking=True,
        description="Blocks publication when a delivered file failed to load, a file's rows "
        "read differ from loaded + rejected, or more than KPI_MAX_REJECTED_SHARE of the rows "
        "read were rejected; warns on fewer rejected rows and on foreign keys that do not "
        "resolve in the raw layer (orphans are loaded: their parent may arrive later).",
    )
    def contract_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            return evaluate_contract(con, table, warehouse.settings().max_rejected_share)

    return contract_check


def evaluate_contract(
    con: duckdb.DuckDBPyConnection, table: Table, max_rejected_share: float
) -> dg.AssetCheckResult:
    failures = con.execute(statement("open_failures.sql"), {"table_name": table.name}).fetchall()
    unbalanced = con.execute(
        statement("unbalanced_files.sql", table=table), {"table_name": table.name}
    ).fetchall()
    ((rows_read, rows_rejected),) = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0)"
        " from raw._load_manifest where table_name = $table_name",
        {"table_name": table.name},
    ).fetchall()
    rejected_share = rows_rejected / rows_read if rows_read else 0.0
    blocking = bool(failures or unbalanced or rejected_share > max_rejected_share)
    rejected = dict(
        con.execute(
            "select reason_code, count(*) from raw._rejected_rows where table_name = $table_name"
            " group by all order by all",
            {"table_name": table.name},
        ).fetchall()
    )
    existing = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    foreign_keys = [fk for fk in _foreign_keys(table) if fk[1] in existing]
    orphans = []
    if foreign_keys:
        sql = statement("orphans.sql", table=table, foreign_keys=foreign_keys)
        orphans = [row for row in con.execute(sql).fetchall() if row[2] > 0]
    return dg.AssetCheckResult(
        passed=not failures and not unbalanced and not orphans and not rows_rejected,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "failed_files": len(failures),
            "rows_read": rows_read,
            "rows_rejected": rows_rejected,
            "rejected_share": rejected_share,
            "max_rejected_share": max_rejected_share,
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {message}" for _, _, message in failures) or "none"
            ),
            "unbalanced_files": [f for (f,) in unbalanced],
            "rejected_rows_by_reason": rejected,
            "orphan_rows_by_column": {column: count for column, _, count, _ in orphans},
            "orphan_foreign_keys": dg.MetadataValue.md(
                "\n".join(
                    f"- {column} → {parent}: {count} rows, e.g. {', '.join(map(str, sample))}"
                    for column, parent, count, sample in orphans
                )
                or "none"
            ),
        },
    )


raw_assets = [_raw_asset(table) for table in contract.tables().values()]
raw_checks = [_contract_check(table) for table in contract.tables().values()]
