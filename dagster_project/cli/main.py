"""``kpi``: generate demo data, refresh the pipeline through Dagster, and show what was loaded."""

import os
import sys
from datetime import date, datetime
from pathlib import Path

import click

from dagster_project.cli.metrics import list_metrics, query
from dagster_project.core.settings import Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except (ValueError, KeyError) as error:
        raise click.ClickException(f"invalid configuration: {error}") from error


def _use_data_dir_for_dagster(settings: Settings) -> None:
    """Keep Dagster's run history under the data directory unless DAGSTER_HOME is set."""
    from dagster_project.orchestration import run_history

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.ClickException(
            f"cannot use KPI_DATA_DIR {settings.data_dir}: {error.strerror}: {error.filename}"
        ) from error
    if not os.environ.get("DAGSTER_HOME"):
        run_history.write_instance_config(settings)
        os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    run_history.tune()
    # Child processes (dbt) resolve the same data directory, whatever their working directory.
    os.environ["KPI_DATA_DIR"] = str(settings.data_dir)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """E-commerce KPI pipeline: landing files -> DuckDB -> dbt KPI mart.

    Configuration comes from environment variables (see README): KPI_DATA_DIR (default
    ./data), KPI_TIMEZONE, KPI_CURRENCY, KPI_DUCKDB_MEMORY_LIMIT, KPI_DUCKDB_THREADS.
    """


main.add_command(query)
main.add_command(list_metrics)


def _days_to_refresh(
    settings: Settings, day: date | None, first: date | None, last: date | None
) -> tuple[date, date]:
    """The business days a refresh covers: the options, else every day in the landing zone."""
    from dagster_project.core.partitions import DAILY
    from dagster_project.ingest.landing_days import delivered_days

    newest = date.fromisoformat(DAILY.get_last_partition_key())
    if day:
        first = last = day
    elif first or last:
        if not (first and last):
            raise click.UsageError("--from and --to go together")
    else:
        days = delivered_days(settings.landing_dir)
        later = [d for d in days if d > newest]
        if later:
            click.echo(
                f"warning: landing holds days after {newest} (yesterday, shop time): "
                f"{later[0]} .. {later[-1]} load once their day is over"
            )
        days = [d for d in days if d <= newest]
        first, last = (days[0], days[-1]) if days else (newest, newest)
    if first > last:
        raise click.UsageError(f"--from {first} is after --to {last}")
    if first < settings.first_business_date:
        raise click.ClickException(
            f"{first} is before the first business day {settings.first_business_date} "
            "(KPI_FIRST_BUSINESS_DATE if set, else the earliest day in the landing zone)"
        )
    if last > newest:
        raise click.ClickException(
            f"{last} is not over yet in {settings.timezone}: the newest day to refresh is {newest}"
        )
    return first, last


_DATE = click.DateTime(formats=["%Y-%m-%d"])


@main.command()
@click.option("--date", "day", type=_DATE, help="Refresh this business day only.")
@click.option("--from", "first", type=_DATE, help="First business day of a range (backfill).")
@click.option("--to", "last", type=_DATE, help="Last business day of a range (backfill).")
@click.option(
    "--verbose", "-v", is_flag=True, help="Show Dagster's whole log and every line of dbt's."
)
def refresh(
    day: datetime | None, first: datetime | None, last: datetime | None, verbose: bool
) -> None:
    """Load new or changed landing files of some days, rebuild, audit, publish if it passed.

    Without options: every business day in the landing zone (a full refresh, in one run).
    Prints a line per stage and per raw table; exits 1 when the gate refuses the build.
    """
    settings = _settings()
    _use_data_dir_for_dagster(settings)
    first_day, last_day = _days_to_refresh(
        settings, *(d.date() if d else None for d in (day, first, last))
    )

    import dagster as dg

    from dagster_project.cli import console
    from dagster_project.core.partitions import range_tags
    from dagster_project.definitions import defs
    from dagster_project.orchestration.jobs import LAUNCHED_BY
    from dagster_project.publish.publication import published_path
    from dagster_project.quality.verdict import conclude

    if not settings.landing_dir.is_dir():
        click.echo(f"warning: {settings.landing_dir} does not exist: every source is absent.")
    click.echo(f"refreshing business days {first_day} .. {last_day}")
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("refresh").execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={LAUNCHED_BY: "cli"} | range_tags(first_day, last_day) | console.run_tags(verbose),
            run_config=console.run_config(verbose),
        )
        verdict = conclude(instance, result.run_id, settings)
    click.echo("")
    warnings = verdict.warning_lines
    if warnings:
        click.echo(f"{len(warnings)} warnings (checks that failed without blocking publication):")
        click.echo("".join(f"  - {warning}\n" for warning in warnings), nl=False)
    if not verdict.published:
        # the last lines name each failing check and what it found (a file and its problem)
        sys.stdout.flush()
        click.echo(
            f"Error: run {result.run_id}: publication blocked; the published mart is unchanged "
            "(`kpi status` shows why a table blocks):\n"
            + "".join(f"  {problem}\n" for problem in verdict.problems),
            err=True,
            nl=False,
        )
        raise SystemExit(1)
    click.echo(
        f"run {result.run_id}: published as of {verdict.published_as_of}: "
        f"{verdict.checks_passed:,} checks passed, {len(warnings)} warnings"
    )
    click.echo(f"  mart    {published_path(settings)}")
    click.echo(f"  report  {settings.report_file}")


@main.command()
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
def ui(port: int) -> None:
    """Start the Dagster UI and daemon on 127.0.0.1: assets, checks, runs, the nightly
    schedule and the landing sensor (Ctrl-C or SIGTERM stops them and all they started)."""
    from dagster_project.orchestration.ui import serve

    settings = _settings()
    _use_data_dir_for_dagster(settings)
    click.echo(f"Dagster UI: http://127.0.0.1:{port}  (history in {os.environ['DAGSTER_HOME']})")
    sys.exit(serve(port))


@main.command()
@click.option(
    "--host",
    envvar="KPI_BI_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (env KPI_BI_HOST); anything but loopback exposes the mart.",
)
@click.option(
    "--port",
    envvar="KPI_BI_PORT",
    default=8088,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port (env KPI_BI_PORT).",
)
@click.option("--provision-only", is_flag=True, help="Provision Superset's home, do not serve.")
def bi(host: str, port: int, provision_only: bool) -> None:
    """Apache Superset on the published mart (`make bi` installs it): provision its home under
    $KPI_DATA_DIR/bi from the metric definitions (or update it in place), then serve it until
    Ctrl-C or SIGTERM. The admin's password: KPI_BI_PASSWORD, else generated once and kept in
    $KPI_DATA_DIR/bi/admin_password."""
    from dagster_project.serve import bi as superset

    settings = _settings()
    try:
        charts, generated = superset.provision(settings)
    except superset.BiError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Superset: {charts} charts on {len(superset.DASHBOARDS)} dashboards "
        f"(its home: {settings.bi_home})"
    )
    if generated:
        click.echo(
            f"admin password, shown once (kept in {settings.bi_home}/admin_password): " + generated
        )
    if provision_only:
        return
    click.echo(f"Superset: http://{host}:{port}/  (user {superset.ADMIN}; Ctrl-C stops it)")
    sys.exit(superset.serve(settings, host, port))


@main.command()
@click.option("--table", help="Show this table's loads per business day.")
@click.option(
    "--rejects", "rejects_of", metavar="TABLE", help="List this table's rejected rows and why."
)
@click.option("--date", "day", type=_DATE, help="With --rejects: only this business day.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1), help="Rows --rejects lists."
)
def status(table: str | None, rejects_of: str | None, day: datetime | None, limit: int) -> None:
    """What was loaded: files and rows per table (or per day of one table), what blocks
    publication and why, the last run; --rejects lists a table's rejected rows."""
    from dagster_project.cli.status import render_rejects, render_status

    settings = _settings()
    _use_data_dir_for_dagster(settings)
    if day and not rejects_of:
        raise click.UsageError("--date goes with --rejects")
    try:
        if rejects_of:
            click.echo(render_rejects(settings, rejects_of, day and day.date(), limit))
        else:
            click.echo(render_status(settings, table))
    except LookupError as error:
        raise click.ClickException(str(error)) from error


@main.group(name="import")
def import_group() -> None:
    """Map a shop's own export into landing files (one adapter per kind of export; see
    docs/bring-your-own-data.md)."""


@import_group.command(name="olist")
@click.argument("src", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Landing directory to write [default: $KPI_DATA_DIR/landing].",
)
def import_olist(src: Path, out: Path | None) -> None:
    """Map the public Olist export in folder SRC into the landing zone: orders, order_items,
    customers, products, suppliers, shipments, _SUCCESS markers and _shop.yml.

    Writes only the files whose bytes changed (a second import of the same export changes
    nothing); prints one line per table: rows, days, files changed.
    """
    from dagster_project.ingest.adapters import ExportError
    from dagster_project.ingest.adapters.olist import import_export

    out = out or _settings().landing_dir
    try:
        summary = import_export(src, out)
    except ExportError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(
            f"cannot write {out}: {error.strerror}: {error.filename}"
        ) from error
    for line in summary.lines():
        click.echo(line)


if __name__ == "__main__":
    sys.exit(main())
