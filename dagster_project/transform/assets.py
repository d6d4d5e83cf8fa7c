"""dbt models as Dagster assets; dbt tests become asset checks.

One dbt invocation builds the whole project. Its incremental facts are partitioned by day of
delivery in SQL (``_delivery_date``), like the raw layer, but not as Dagster partitions: a
partitioned dbt op would split the build into one dbt invocation per layer (~7 s each) to
interleave the audits, and log one event per model per day of a range run.
"""

import contextlib
import io
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dbt.constants import PARTIAL_PARSE_FILE_NAME

from dagster_project.cli.console import CONSOLE_TAG, QUIET
from dagster_project.core.partitions import run_window
from dagster_project.core.resources import WarehouseResource
from dagster_project.ingest.loader import absent_sources
from dagster_project.transform.project import dbt_environment, dbt_project, environment


class KpiTranslator(DagsterDbtTranslator):
    """Models are grouped by their top folder (staging, intermediate, marts); seeds as seeds."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "model":
            return dbt_resource_props["fqn"][1]
        return f"{resource_type}s"


project = dbt_project()
# parses the project when its manifest is missing or stale, headless runs too
project.prepare_if_dev()
manifest = project.manifest_path


@dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=KpiTranslator())
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Build every selected dbt model and run its tests, in dependency order.

    In a run over some days, the incremental facts rebuild the rows delivered on those days
    (``KPI_WINDOW_START`` / ``KPI_WINDOW_END``) besides everything loaded since their last
    build; the other models are rebuilt whole. The shop's settings and its absent sources
    reach dbt the same way (``transform.project.dbt_environment``), and the build starts from
    the last build's saved parse (the first one from the code location's).
    """
    # dbt-duckdb does not create the warehouse's folder; artefacts and logs go under the data
    # directory, replaced by each build
    settings = warehouse.settings()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    # dbt's unit tests check the models' logic on fixtures: `make test` runs them, not the
    # nightly build (tests/dbt/test_unit_tests.py)
    with warehouse.connect(read_only=True) as con:
        absent = absent_sources(con)
    args = ["build", "--exclude-resource-type", "unit_test"]
    own_parse = settings.dbt_build_target_dir / PARTIAL_PARSE_FILE_NAME
    saved_parse = project.project_dir.joinpath(project.target_path, PARTIAL_PARSE_FILE_NAME)
    if saved_parse.exists() and (
        not own_parse.exists() or own_parse.stat().st_mtime < saved_parse.stat().st_mtime
    ):
        # the first build of this data directory, and the first after the project changed,
        # start from the code location's parse, which is current (the others from their own,
        # which the build before them left: dbt's partial parse of an old parse can fail where
        # a fresh one does not, e.g. on metrics moved to another file)
        args += ["--partial-parse-file-path", str(saved_parse)]
    with environment(dbt_environment(settings, absent, run_window(context.run.tags))):
        invocation = dbt.cli(args, context=context, target_path=settings.dbt_build_target_dir)
    events = invocation.stream()
    if context.run.tags.get(CONSOLE_TAG) != QUIET:
        yield from events
        return
    # dagster-dbt writes each of dbt's lines to standard output as it reads it; a quiet run
    # (`kpi refresh` without --verbose) keeps them in dbt.log only
    while True:
        with contextlib.redirect_stdout(io.StringIO()):
            event = next(events, None)
        if event is None:
            return
        yield event
