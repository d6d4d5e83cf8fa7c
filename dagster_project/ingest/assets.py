"""Raw-layer assets: one per contract table, loading its landing files into ``raw.<table>``."""

import time
import warnings

import dagster as dg

from dagster_project.core.partitions import DAILY, SINGLE_RUN, run_window, window
from dagster_project.core.resources import WarehouseResource
from dagster_project.ingest import contract
from dagster_project.ingest.contract import Table
from dagster_project.ingest.landing_days import missing_days
from dagster_project.ingest.loader import FileOutcome, TableLoader, absent_sources
from dagster_project.quality.contract import evaluate_contract, foreign_keys
from dagster_project.quality.freshness import last_load_metadata
from dagster_project.quality.policy import current

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
            freshness = last_load_metadata(con, table.name)
        for message in result.cleared:
            context.log.info(message)
        if absent:  # not a problem of the build: many shops lack a system or two
            context.log.info(
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
                "failures_cleared": len(result.cleared),
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "source_absent": absent,
                "seconds": round(time.monotonic() - started, 3),
                # when its newest file with rows was loaded, for its freshness check
                **freshness,
            }
        )

    return load_raw_table


def _contract_check(table: Table) -> dg.AssetChecksDefinition:
    parents = sorted({parent for _, parent, _ in foreign_keys(table)} - {table.name})

    @dg.asset_check(
        asset=raw_key(table.name),
        name="contract",
        additional_deps=[raw_key(parent) for parent in parents],
        blocking=True,
        description=current().contract_description(),
    )
    def contract_check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        settings = warehouse.settings()
        days = run_window(context.run.tags)
        missing = missing_days(settings.landing_dir, table.name, *days) if days else []
        with warehouse.connect(read_only=True) as con:
            return evaluate_contract(con, table, settings.max_rejected_share, missing)

    return contract_check


# The single-run backfill policy is what makes a range one run; Dagster warns once per asset
# that the parameter is beta (17 lines on every start), which a user can do nothing about.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Parameter `backfill_policy`", dg.BetaWarning)
    raw_assets = [_raw_asset(table) for table in contract.tables().values()]
raw_checks = [_contract_check(table) for table in contract.tables().values()]
