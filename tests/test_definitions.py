"""The Dagster code location loads and exposes the expected assets, checks and jobs."""

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.ingest import contract

RAW_TABLES = [
    "ad_spend",
    "campaigns",
    "customers",
    "events",
    "experiment_assignments",
    "experiments",
    "inventory_snapshots",
    "order_items",
    "orders",
    "products",
    "purchase_orders",
    "refunds",
    "sessions",
    "shipments",
    "suppliers",
    "support_tickets",
    "surveys",
]


def _keys_in_group(group: str) -> list[str]:
    graph = defs.resolve_asset_graph()
    return sorted(
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).group_name == group
    )


def test_definitions_list_one_raw_asset_per_source_table():
    assert _keys_in_group("raw") == [f"raw/{table}" for table in RAW_TABLES]
    assert sorted(contract.tables()) == RAW_TABLES


def test_each_raw_table_has_one_staging_model_reading_it():
    assert _keys_in_group("staging") == [f"staging/stg_{table}" for table in RAW_TABLES]
    graph = defs.resolve_asset_graph()
    for table in RAW_TABLES:
        parents = graph.get(dg.AssetKey(["staging", f"stg_{table}"])).parent_keys
        assert parents == {dg.AssetKey(["raw", table])}


def test_every_raw_asset_has_a_contract_check():
    graph = defs.resolve_asset_graph()
    for table in RAW_TABLES:
        key = dg.AssetKey(["raw", table])
        assert dg.AssetCheckKey(key, "contract") in graph.asset_check_keys


def test_refresh_job_selects_every_asset():
    job = defs.resolve_job_def("refresh")
    assert job.asset_layer.selected_asset_keys == defs.resolve_asset_graph().get_all_asset_keys()


def test_the_refresh_job_runs_dbt_and_each_audit_in_one_step():
    """A blocking check that needed dbt's output while dbt waited for it once split the dbt
    build into two steps, the first running before any raw table was loaded."""
    steps = [node.name for node in defs.resolve_job_def("refresh").graph.node_defs]
    assert len(steps) == len(set(steps))
    assert {"dbt_models", "audit_raw", "audit", "published__kpi_mart"} <= set(steps)


def test_every_run_executes_in_one_process_holding_the_warehouse():
    """The warehouse lock is taken when a run's resources start: one process per run keeps
    another run from writing between two of its steps."""
    for job in (defs.resolve_job_def("refresh"), defs.resolve_implicit_global_asset_job_def()):
        assert job.executor_def.name == "in_process"


def test_every_dbt_test_is_an_asset_check():
    """dagster-dbt logs a test it cannot attach to one asset (a singular test reading several
    models, without meta.dagster.ref) as an observation: it would not gate anything."""
    import json

    from dagster_project.transform.assets import manifest

    tests = {
        node["name"]
        for node in json.loads(manifest.read_text())["nodes"].values()
        if node["resource_type"] == "test"
    }
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert tests, "no dbt tests in the manifest"
    assert sorted(tests - checks) == []
