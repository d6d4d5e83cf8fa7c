"""The self-contained HTML KPI report, rendered from the published KPI mart."""

from dagster_project.report.render import ChartSummary, ReportSummary, render_report

__all__ = ["ChartSummary", "ReportSummary", "render_report"]
