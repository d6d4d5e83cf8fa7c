"""``kpi status``: what the raw layer holds, read from the load manifest, and the last run."""

from datetime import UTC, datetime

import dagster as dg

from dagster_project import warehouse
from dagster_project.ingest import contract
from dagster_project.ingest.sql_templates import statement
from dagster_project.settings import Settings


def _table(headers: list[str], rows: list[tuple]) -> str:
    cells = [headers] + [
        ["" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row]
        for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _last_run() -> str:
    with dg.DagsterInstance.get() as instance:
        records = instance.get_run_records(limit=1)
    if not records:
        return "last run: none yet"
    record = records[0]
    started = record.start_time and datetime.fromtimestamp(record.start_time, UTC)
    return (
        f"last run: {record.dagster_run.run_id} {record.dagster_run.status.value}"
        + (f", started {started:%Y-%m-%d %H:%M:%S} UTC" if started else "")
        + (
            f", took {record.end_time - record.start_time:.1f} s"
            if record.start_time and record.end_time
            else ""
        )
    )


def render_status(settings: Settings, table: str | None) -> str:
    """The status report as text; raises LookupError for an unknown table."""
    if table is not None and table not in contract.tables():
        raise LookupError(f"unknown table {table!r}; tables: {', '.join(contract.tables())}")
    if not settings.build_db.exists():
        return (
            f"nothing loaded yet ({settings.build_db} does not exist): run `kpi refresh`.\n"
            + _last_run()
        )
    with warehouse.connect(settings, read_only=True) as con:
        if table is None:
            rows = con.execute(
                statement("status_by_table.sql"), {"tables": list(contract.tables())}
            ).fetchall()
            headers = [
                "table",
                "files",
                "days",
                "first day",
                "last day",
                "rows loaded",
                "rows rejected",
                "failed files",
            ]
        else:
            rows = con.execute(statement("status_by_day.sql"), {"table_name": table}).fetchall()
            headers = ["business date", "files", "rows loaded", "rows rejected", "loaded at"]
        failures = con.execute(statement("open_failures.sql"), {"table_name": table}).fetchall()
    report = [f"data directory: {settings.data_dir}", _table(headers, rows)]
    if failures:
        report.append("files that failed to load (earlier deliveries, if any, stay loaded):")
        report.extend(f"  {message}" for _, _, message in failures)
    report.append(_last_run())
    return "\n".join(report)
