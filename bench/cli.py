"""``kpi-bench``: the benchmark harness's command (measures the pipeline; not part of it)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from bench import SIZES, BenchPaths, Size


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--size",
    type=click.Choice(list(SIZES)),
    help="small = 30 days x 5,000 sessions/day, medium = 365 x 50,000, large = 365 x 200,000.",
)
@click.option(
    "--repeat",
    type=click.IntRange(1),
    help="Runs whose median (with min and max) is reported [default: 3; 1 for large].",
)
@click.option(
    "--history-check/--no-history-check",
    default=None,
    help="Also time the one-day incremental on a 35-day history, to see whether it grows "
    "with the history [default: on for medium and large].",
)
@click.option("--regenerate", is_flag=True, help="Generate the landing files again even if cached.")
@click.option(
    "--readme",
    is_flag=True,
    help="Print the README's results table from bench/results/*.json and exit.",
)
@click.option("--bench-dir", type=click.Path(path_type=Path), hidden=True)
def bench(
    size: str | None,
    repeat: int | None,
    history_check: bool | None,
    regenerate: bool,
    readme: bool,
    bench_dir: Path | None,
) -> None:
    """Measure a full refresh, a one-day incremental refresh and the floor for one size.

    Generates the demo shop once per size (cached in bench/data/<size>/cache), then per run:
    a full refresh over all days but the last (each stage's wall time from the Dagster run),
    the floor (one plain DuckDB connection computing the same marts from the compiled dbt SQL),
    and `kpi refresh --date <last day>`; peak memory is that of the whole process tree.
    Writes bench/results/<size>.json and .md. Times are reported, never asserted.
    """
    from bench.results import readme_section, render_markdown, write_results
    from bench.runner import Bench

    paths = BenchPaths(bench_dir.resolve()) if bench_dir else BenchPaths.default()
    if readme:
        click.echo(readme_section(paths.results_dir), nl=False)
        return
    if size is None:
        raise click.UsageError("--size is required (small, medium or large)")
    chosen = SIZES[size]
    check_free_disk(paths.data_dir, chosen, paths.cache_dir(size))
    runner = Bench(
        chosen,
        repeat or chosen.default_repeat,
        paths,
        chosen.history_check if history_check is None else history_check,
        regenerate,
        echo=click.echo,
    )
    result = runner.run()
    json_path, md_path = write_results(result, paths)
    click.echo("")
    click.echo(render_markdown(result))
    click.echo(f"wrote {json_path} and {md_path}")
    if result["problems"]:
        raise click.ClickException(
            f"{len(result['problems'])} problem(s), listed above and in {json_path}"
        )


def check_free_disk(data_dir: Path, size: Size, cache: Path) -> None:
    """Refuse to start a run the disk cannot hold: a large run once stopped on a full disk after
    28 minutes. Landing files already generated into ``cache`` are on the disk, not needed."""
    from bench.measure import dir_bytes
    from bench.results import GIB

    existing = next(path for path in (data_dir, *data_dir.parents) if path.exists())
    free = shutil.disk_usage(existing).free
    need = max(size.disk_bytes - dir_bytes(cache), 0)
    if free < need:
        raise click.ClickException(
            f"--size {size.name} needs about {need / GIB:,.0f} GiB of free disk under"
            f" {data_dir} (the warehouse, DuckDB's spill and the floor's database); there are"
            f" {free / GIB:,.1f} GiB free. Free some space, or measure a smaller size."
        )


if __name__ == "__main__":
    sys.exit(bench())
