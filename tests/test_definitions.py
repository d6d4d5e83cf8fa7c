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


def test_definitions_list_one_raw_asset_per_source_table():
    keys = sorted(key.to_user_string() for key in defs.resolve_all_asset_keys())
    assert keys == [f"raw/{table}" for table in RAW_TABLES]
    assert sorted(contract.tables()) == RAW_TABLES


def test_every_raw_asset_is_in_group_raw_with_a_contract_check():
    graph = defs.resolve_asset_graph()
    for table in RAW_TABLES:
        key = dg.AssetKey(["raw", table])
        assert graph.get(key).group_name == "raw"
        assert dg.AssetCheckKey(key, "contract") in graph.asset_check_keys


def test_refresh_job_selects_every_asset():
    job = defs.resolve_job_def("refresh")
    assert {key.to_user_string() for key in job.asset_layer.selected_asset_keys} == {
        f"raw/{table}" for table in RAW_TABLES
    }
