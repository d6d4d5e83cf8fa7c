"""The Dagster code location: every asset, check, job and resource of the pipeline."""

import dagster as dg

from dagster_project.audit.checks import audit_checks
from dagster_project.ingest.assets import raw_assets, raw_checks
from dagster_project.jobs import refresh_job
from dagster_project.publish.assets import kpi_report, publication_asset
from dagster_project.publish.publication import is_published
from dagster_project.resources import WarehouseResource
from dagster_project.transform.assets import dbt_models, project
from dagster_project.transform.project import dbt_resource

marts = [key for key in dbt_models.keys if key.path[0] == "marts"]
published_tables = [key.path[-1] for key in marts if is_published(key.path[-1])]

defs = dg.Definitions(
    assets=[*raw_assets, dbt_models, publication_asset(marts), kpi_report],
    asset_checks=[*raw_checks, *audit_checks(published_tables)],
    jobs=[refresh_job],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource(project)},
)
