"""Publication and the report: the last two steps of a refresh, after the audit."""

import dagster as dg

from dagster_project.core.resources import WarehouseResource
from dagster_project.publish.publication import publish, published_path
from dagster_project.quality.verdict import PUBLISHED_KEY, verdict_for_run


def publication_asset(marts: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        group_name="publish",
        kinds={"duckdb", "parquet"},
        deps=marts,
    )
    def kpi_mart(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """The published KPI mart: `published/kpi_mart.duckdb` and `published/parquet/`.

        Runs only when no blocking check of the run failed (Dagster skips it otherwise), copies
        the KPI marts and dimensions into a new file and swaps it in atomically.
        """
        verdict = verdict_for_run(context.instance, context.run.run_id)
        if verdict.blocked:
            # the run's verdict, as the gate reads it: a check that failed at ERROR severity
            # without stopping this step (one Dagster did not declare blocking) refuses it too
            raise dg.Failure(f"gate failed: {', '.join(verdict.blocked)}")
        publication = publish(warehouse.settings(), context.run.run_id, verdict)
        context.log.info(
            f"published {len(publication.rows_per_table)} tables as of "
            f"{publication.as_of_date} to {publication.path}"
        )
        return dg.MaterializeResult(
            metadata={
                "as_of_date": str(publication.as_of_date),
                "path": dg.MetadataValue.path(str(publication.path)),
                "checks_passed": verdict.checks_passed,
                "rows_per_table": publication.rows_per_table,
                "absent_sources": publication.absent_sources,
                "absent_kpis": publication.absent_kpis,
            }
        )

    return kpi_mart


@dg.asset(
    key=dg.AssetKey(["reports", "kpi_report"]),
    group_name="publish",
    kinds={"html"},
    deps=[PUBLISHED_KEY],
)
def kpi_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The self-contained HTML KPI report (`reports/kpi_report.html`), rendered from the
    publication just made: what readers see, never the unaudited build."""
    from dagster_project.report import render_report

    settings = warehouse.settings()
    summary = render_report(published_path(settings), settings.report_file)
    if summary.failed:
        context.log.warning(f"report parts that could not be read: {summary.failed}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(summary.out_file)),
            "as_of_date": str(summary.as_of_date),
            "chart_points": summary.point_counts,
            "unavailable": list(summary.unavailable),
            "failed": [part for part, _ in summary.failed],
        }
    )
