"""``kpi status``: what the raw layer holds, read from the load manifest, and the last run."""

from datetime import UTC, date, datetime

import dagster as dg
from tabulate import tabulate

from dagster_project.core import warehouse
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.ingest.landing_days import delivered_days, missing_days
from dagster_project.ingest.sql_templates import TEMPLATES, statement


def _table(headers: list[str], rows: list[tuple]) -> str:
    """Rows under their headers; a column of text is aligned left, any other right."""
    text = [i == 0 or all(isinstance(row[i], str) for row in rows) for i in range(len(headers))]
    cells = [
        ["" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row]
        for row in rows
    ]
    return tabulate(
        cells,
        headers=headers,
        tablefmt="simple",
        colalign=["left" if left else "right" for left in text],
        disable_numparse=True,  # cells are shown as they are: 1,234, file names, dates
    )


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


def _blocking(con, settings: Settings, table: str | None) -> list[str]:
    """Why the tables (or one) would block publication now: the contract check's verdict on
    what the raw layer holds, with the days a daily source missed up to the newest day
    delivered."""
    from dagster_project.quality.contract import contract_verdict

    days = delivered_days(settings.landing_dir)
    problems = []
    for spec in contract.tables().values():
        if table not in (None, spec.name):
            continue
        missing = missing_days(settings.landing_dir, spec.name, days[0], days[-1]) if days else []
        problems += contract_verdict(con, spec, settings.max_rejected_share, missing).blocking
    return problems


def _last_attempt(con) -> str | None:
    """The last publication attempt the build logged, when it was refused."""
    exists = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'audit' and table_name = 'publication_log'"
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = con.execute(
        "select outcome, finished_at, message from audit.publication_log"
        " order by finished_at desc limit 1"
    ).fetchall()
    if not rows or rows[0][0] == "published":
        return None
    outcome, finished_at, message = rows[0]
    return f"last attempt {outcome} at {finished_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {message}"


def render_status(settings: Settings, table: str | None) -> str:
    """The status report as text; raises LookupError for an unknown table."""
    _known(table)
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
        blocking = _blocking(con, settings, table)
        attempt = _last_attempt(con)
    report = [f"data directory: {settings.data_dir}", _table(headers, rows)]
    if blocking:
        report.append("blocks publication (earlier deliveries of failed files stay loaded):")
        report.extend(f"  {problem}" for problem in blocking)
    else:
        report.append("nothing in the raw layer blocks publication")
    if attempt:
        report.append(attempt)
    report.append(_last_run())
    return "\n".join(report)


def _known(table: str | None) -> None:
    if table is not None and table not in contract.tables():
        raise LookupError(f"unknown table {table!r}; tables: {', '.join(contract.tables())}")


def _clip(text: str | None, width: int) -> str:
    text = "" if text is None else " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_rejects(settings: Settings, table: str, day: date | None, limit: int) -> str:
    """The rejected rows of a table (of one business day): counts per reason, then each row
    with its file, line, reason and the record as delivered."""
    _known(table)
    if not settings.build_db.exists():
        return f"nothing loaded yet ({settings.build_db} does not exist): run `kpi refresh`."
    params = {"table_name": table, "business_date": day, "limit": limit}
    with warehouse.connect(settings, read_only=True) as con:
        by_reason = TEMPLATES.fetchall(con, "rejects_by_reason.sql", params)
        rows = TEMPLATES.fetchall(con, "rejects.sql", params)
    scope = f"raw.{table}" + (f", business date {day}" if day else "")
    total = sum(count for _, count, _ in by_reason)
    if not total:
        return f"no rejected rows in {scope}"
    report = [
        f"{total:,} rejected rows in {scope}",
        _table(["reason", "rows", "files"], by_reason),
        "",
        _table(
            ["file", "line", "reason", "record"],
            [
                (f, line, _clip(reason, 70), _clip(record, 60))
                for f, line, _, reason, record in rows
            ],
        ),
    ]
    if total > len(rows):
        report.append(f"... and {total - len(rows):,} more (--limit)")
    return "\n".join(report)
