"""Raw-layer assets: one per contract table, loading its landing files into ``raw.<table>``."""

import time
import warnings
from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb

from dagster_project.core.partitions import DAILY, SINGLE_RUN, run_window, window
from dagster_project.core.resources import WarehouseResource
from dagster_project.ingest import contract
from dagster_project.ingest.contract import Table
from dagster_project.ingest.landing_days import MARKER_DIR, missing_days
from dagster_project.ingest.loader import FileOutcome, TableLoader, absent_sources
from dagster_project.ingest.sql_templates import statement

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
        "read differ from loaded + rejected, more than KPI_MAX_REJECTED_SHARE of the rows "
        "read were rejected, or (a daily source) a day of the run has no file and no "
        "landing/_SUCCESS/dt=<day> marker; warns on fewer rejected rows and on foreign keys "
        "that do not resolve in the raw layer (orphans are loaded: their parent may arrive "
        "later).",
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


def _day_ranges(days: list[date]) -> str:
    """``2025-12-01 .. 2025-12-03, 2025-12-07``: consecutive days as one range."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{r[0]} .. {r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


@dataclass(frozen=True)
class ContractState:
    """What the raw layer holds of one table that the contract check judges."""

    table: str
    failures: list[str]  # messages of the open failures, each naming its file and problem
    unbalanced: list[str]  # files whose manifest counts disagree with the rows stored
    rows_read: int
    rows_rejected: int

    @property
    def rejected_share(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0

    def blocking(self, max_rejected_share: float, missing: list[date] = ()) -> list[str]:
        """Why the table blocks publication, one line each; empty when it does not."""
        problems = list(self.failures)
        problems += [
            f"landing/{f}: unbalanced: the manifest's rows read differ from the rows loaded "
            "plus rejected"
            for f in self.unbalanced
        ]
        if self.rejected_share > max_rejected_share:
            problems.append(
                f"raw.{self.table}: {self.rows_rejected:,} of {self.rows_read:,} rows rejected "
                f"({self.rejected_share:.2%}), more than KPI_MAX_REJECTED_SHARE "
                f"{max_rejected_share:.2%}: see `kpi status --rejects {self.table}`"
            )
        if len(missing) == 1:
            (day,) = missing
            problems.append(
                f"landing/{self.table}/dt={day}/: no file for business day {day} (if the day "
                f"really had nothing to deliver, write an empty landing/{MARKER_DIR}/dt={day})"
            )
        elif missing:
            problems.append(
                f"landing/{self.table}/: no file for business days {_day_ranges(missing)} (if "
                "a day really had nothing to deliver, write an empty "
                f"landing/{MARKER_DIR}/dt=<day>)"
            )
        return problems


def contract_state(con: duckdb.DuckDBPyConnection, table: Table) -> ContractState:
    params = {"table_name": table.name}
    failures = con.execute(statement("open_failures.sql"), params).fetchall()
    unbalanced = con.execute(statement("unbalanced_files.sql", table=table), params).fetchall()
    ((rows_read, rows_rejected),) = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0)"
        " from raw._load_manifest where table_name = $table_name",
        params,
    ).fetchall()
    return ContractState(
        table.name,
        [message for _, _, message in failures],
        [f for (f,) in unbalanced],
        rows_read,
        rows_rejected,
    )


def evaluate_contract(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    max_rejected_share: float,
    missing: list[date] = (),
) -> dg.AssetCheckResult:
    """The contract check's verdict on what the raw layer holds of ``table``; ``missing`` are
    days of the run without a file of a daily source (landing_days.missing_days)."""
    state = contract_state(con, table)
    blocking = state.blocking(max_rejected_share, missing)
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
    # a reference into a source that never delivered cannot be checked: no orphan warning
    absent = set(absent_sources(con))
    foreign_keys = [fk for fk in _foreign_keys(table) if fk[1] in existing and fk[1] not in absent]
    orphans = []
    if foreign_keys:
        sql = statement("orphans.sql", table=table, foreign_keys=foreign_keys)
        orphans = [row for row in con.execute(sql).fetchall() if row[2] > 0]
    warnings = []
    if state.rows_rejected and not blocking:
        warnings.append(
            f"raw.{table.name}: {state.rows_rejected:,} rows rejected "
            f"({state.rejected_share:.2%}): see `kpi status --rejects {table.name}`"
        )
    warnings += [
        f"raw.{table.name}: {count:,} rows whose {column} has no {parent}"
        for column, parent, count, _ in orphans
    ]
    return dg.AssetCheckResult(
        passed=not blocking and not warnings,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description="; ".join(blocking or warnings) or None,
        metadata={
            "failed_files": len(state.failures),
            "rows_read": state.rows_read,
            "rows_rejected": state.rows_rejected,
            "rejected_share": state.rejected_share,
            "max_rejected_share": max_rejected_share,
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {message}" for message in state.failures) or "none"
            ),
            "unbalanced_files": state.unbalanced,
            "missing_days": [day.isoformat() for day in missing],
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


# The single-run backfill policy is what makes a range one run; Dagster warns once per asset
# that the parameter is beta (17 lines on every start), which a user can do nothing about.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Parameter `backfill_policy`", dg.BetaWarning)
    raw_assets = [_raw_asset(table) for table in contract.tables().values()]
raw_checks = [_contract_check(table) for table in contract.tables().values()]
