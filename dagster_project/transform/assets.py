"""dbt models as Dagster assets; dbt tests become asset checks."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project.resources import WarehouseResource
from dagster_project.transform.project import dbt_project, ensure_manifest


class KpiTranslator(DagsterDbtTranslator):
    """Models are grouped by their top folder (staging, intermediate, marts); seeds as seeds."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "model":
            return dbt_resource_props["fqn"][1]
        return f"{resource_type}s"


project = dbt_project()


@dbt_assets(
    manifest=ensure_manifest(project),
    project=project,
    dagster_dbt_translator=KpiTranslator(),
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Build every selected dbt model and run its tests, in dependency order."""
    # dbt-duckdb does not create the warehouse's folder; artefacts and logs go under the data
    # directory, replaced by each build
    warehouse.settings().warehouse_dir.mkdir(parents=True, exist_ok=True)
    target_path = project.target_path / "build"
    yield from dbt.cli(["build"], context=context, target_path=target_path).stream()
