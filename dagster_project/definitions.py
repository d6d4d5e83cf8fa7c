"""The Dagster code location: every asset, check, job and resource of the pipeline."""

import dagster as dg

from dagster_project.ingest.assets import raw_assets, raw_checks
from dagster_project.jobs import refresh_job
from dagster_project.resources import WarehouseResource
from dagster_project.transform.assets import dbt_models, project
from dagster_project.transform.project import dbt_resource

defs = dg.Definitions(
    assets=[*raw_assets, dbt_models],
    asset_checks=raw_checks,
    jobs=[refresh_job],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource(project)},
)
