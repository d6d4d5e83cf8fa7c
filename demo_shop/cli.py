"""``kpi-demo``: write the embedded demo shop's landing files (``make run`` calls it when the
landing zone is empty). The demo shop is not part of the pipeline: it is a data producer,
like a shop's own export, and reads the pipeline's contract and settings to deliver into the
landing zone they describe."""

import sys
from datetime import date
from pathlib import Path

import click

from dagster_project.core.settings import Settings
from demo_shop import generate as run_generator
from demo_shop.defects import DEFECTS
from demo_shop.timeline import MIN_DAYS

DEMO = {"start": "2025-06-01", "days": 183, "sessions_per_day": 3000, "seed": 42}


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Landing directory to write [default: $KPI_DATA_DIR/landing].",
)
@click.option("--start", default=DEMO["start"], show_default=True, help="First business day.")
@click.option("--days", default=DEMO["days"], show_default=True, type=click.IntRange(MIN_DAYS))
@click.option(
    "--sessions-per-day",
    default=DEMO["sessions_per_day"],
    show_default=True,
    type=click.IntRange(1),
)
@click.option("--seed", default=DEMO["seed"], show_default=True, type=int)
@click.option(
    "--defects", default="", help="Comma-separated defects to inject (see --list-defects)."
)
@click.option("--list-defects", is_flag=True, help="List the injectable defects and exit.")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing when the landing directory already has files."
)
def main(
    out: Path | None,
    start: str,
    days: int,
    sessions_per_day: int,
    seed: int,
    defects: str,
    list_defects: bool,
    if_empty: bool,
) -> None:
    """Write the embedded demo shop's daily extracts into a landing directory (the pipeline's
    `kpi refresh` then loads them). Same arguments, byte-identical files."""

    if list_defects:
        for name, defect in DEFECTS.items():
            click.echo(f"{name:22} {defect.table:16} {defect.plants}")
        return
    try:
        settings = Settings.from_env()
    except (ValueError, KeyError) as error:
        raise click.ClickException(f"invalid configuration: {error}") from error
    out = out or settings.landing_dir
    if if_empty and out.is_dir() and any(p.is_file() for p in out.rglob("*")):
        click.echo(f"{out} already holds landing files: not generating demo data.")
        return
    try:
        first_day = date.fromisoformat(start)
    except ValueError as error:
        raise click.BadParameter(
            f"{start!r} is not a YYYY-MM-DD date", param_hint="--start"
        ) from error
    names = [d.strip() for d in defects.split(",") if d.strip()]
    try:
        summary = run_generator(
            out,
            first_day,
            days,
            sessions_per_day,
            seed,
            defects=names,
            timezone=settings.timezone,
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(
            f"cannot write {out}: {error.strerror}: {error.filename}"
        ) from error
    click.echo(
        f"wrote {summary.total_rows:,} rows in {len(summary.files):,} files to {out} "
        f"in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s)"
    )


if __name__ == "__main__":
    sys.exit(main())
