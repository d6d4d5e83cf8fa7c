"""The Dagster code location: every asset, check, job, schedule, sensor and resource."""

import dagster as dg

from dagster_project.cli.console import LOGGER, kpi_console
from dagster_project.core.resources import WarehouseResource
from dagster_project.ingest.assets import raw_assets, raw_checks
from dagster_project.orchestration import run_history
from dagster_project.orchestration.automation import schedules, sensors
from dagster_project.orchestration.jobs import freshness_job, refresh_job
from dagster_project.publish.assets import kpi_report, publication_asset
from dagster_project.publish.publication import is_published
from dagster_project.quality.checks import audit_checks
from dagster_project.quality.freshness import freshness_checks
from dagster_project.transform.assets import dbt_models, project
from dagster_project.transform.project import dbt_resource

run_history.tune()

marts = [key for key in dbt_models.keys if key.path[0] == "marts"]
published_tables = [key.path[-1] for key in marts if is_published(key.path[-1])]

defs = dg.Definitions(
    assets=[*raw_assets, dbt_models, publication_asset(marts), kpi_report],
    asset_checks=[*raw_checks, *audit_checks(published_tables), *freshness_checks],
    jobs=[refresh_job, freshness_job],
    schedules=schedules,
    sensors=sensors,
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource(project)},
    # runs that configure no logger (the daemon's, the UI's) get Dagster's console logger;
    # `kpi refresh` configures its own (dagster_project/console.py)
    loggers={"console": dg.colored_console_logger, LOGGER: kpi_console},
    # every run (also a materialization from the UI) executes its steps in one process, so
    # the warehouse lock its resource takes covers the whole run
    executor=dg.in_process_executor,
)
