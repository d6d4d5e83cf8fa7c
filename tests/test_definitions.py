"""The Dagster code location loads and exposes the expected assets, checks and jobs."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dbt.constants import PARTIAL_PARSE_FILE_NAME as PARTIAL_PARSE

from dagster_project.definitions import defs
from dagster_project.ingest import contract
from dagster_project.transform.project import PARSE_FILES

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


def test_the_manifest_is_parsed_when_missing_or_older_than_the_project(monkeypatch):
    """Headless runs prepare the dbt project too, but only when it changed: a partial parse
    of an unchanged project still costs a dbt start (about 7 s) in every process."""
    from dagster_project.core.settings import Settings
    from dagster_project.transform.project import StaleManifestPreparer, dbt_project

    monkeypatch.delenv("KPI_DBT_PARSE_CACHE", raising=False)
    project = dbt_project(Settings.from_env())
    parses = []

    def parse(self, project):
        parses.append(project.manifest_path)
        project.manifest_path.write_text("{}")

    monkeypatch.setattr(StaleManifestPreparer, "_prepare_manifest", parse)
    project.manifest_path.parent.mkdir(parents=True)
    project.prepare_if_dev()  # missing
    project.prepare_if_dev()  # current
    assert parses == [project.manifest_path]
    os.utime(project.manifest_path, (0, 0))
    project.prepare_if_dev()  # older than every file of the project
    assert len(parses) == 2


def _fake_parse(folder: Path, content: str) -> None:
    for name in PARSE_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"{name} {content}")


def test_a_new_data_directory_copies_a_current_parse_from_the_cache(tmp_path, monkeypatch):
    from dagster_project.core.settings import Settings
    from dagster_project.transform import project as module

    cache = tmp_path / "cache"
    _fake_parse(cache, "cached")
    monkeypatch.setenv("KPI_DBT_PARSE_CACHE", str(cache))
    monkeypatch.setattr(module, "dbt_resource", _no_dbt)
    project = module.dbt_project(Settings.from_env())
    project.prepare_if_dev()
    target = Path(project.target_path)
    assert {name: (target / name).read_text() for name in PARSE_FILES} == {
        name: f"{name} cached" for name in PARSE_FILES
    }


def test_a_parse_starts_from_the_cache_and_leaves_its_own_there(tmp_path, monkeypatch):
    """A cached parse older than the project: dbt parses again, from it (only what changed),
    and the cache then holds the new parse."""
    from dagster_project.core.settings import Settings
    from dagster_project.transform import project as module

    cache = tmp_path / "cache"
    _fake_parse(cache, "old")
    for name in PARSE_FILES:
        os.utime(cache / name, (0, 0))  # older than every file of the project
    monkeypatch.setenv("KPI_DBT_PARSE_CACHE", str(cache))
    calls = []

    class FakeDbt:
        def cli(self, args, target_path):
            calls.append(list(args))
            _fake_parse(Path(target_path), "new")
            return self

        def wait(self):
            return None

    monkeypatch.setattr(module, "dbt_resource", lambda project: FakeDbt())
    project = module.dbt_project(Settings.from_env())
    project.prepare_if_dev()
    assert calls == [["parse", "--quiet", "--partial-parse-file-path", str(cache / PARTIAL_PARSE)]]
    assert {name: (cache / name).read_text() for name in PARSE_FILES} == {
        name: f"{name} new" for name in PARSE_FILES
    }


def _no_dbt(project):
    raise AssertionError("dbt was started")


PREPARE = """
import os, sys
from dagster_project.transform import project as module
parse = module.StaleManifestPreparer._prepare_manifest
def logged(self, project):
    with open(sys.argv[1], "a") as log:
        log.write(f"start {os.getpid()}\\n")
    parse(self, project)
    with open(sys.argv[1], "a") as log:
        log.write(f"end {os.getpid()}\\n")
module.StaleManifestPreparer._prepare_manifest = logged
project = module.dbt_project()
project.prepare_if_dev()
assert project.manifest_path.exists()
"""


@pytest.mark.slow
def test_processes_starting_together_parse_once(isolated_data_dir, tmp_path):
    """dagster-dbt's guard: the second process waits for the first one's parse and uses its
    manifest instead of writing the same target files at once. dbt is found off PATH too."""
    log = tmp_path / "parses.log"
    env = os.environ | {"PATH": "/usr/bin:/bin", "KPI_DATA_DIR": str(isolated_data_dir)}
    env.pop("KPI_DBT_PARSE_CACHE", None)  # no parse to copy: both must need dbt's
    starts = [
        subprocess.Popen([sys.executable, "-c", PREPARE, str(log)], env=env) for _ in range(2)
    ]
    assert [process.wait(timeout=300) for process in starts] == [0, 0]
    assert [line.split()[0] for line in log.read_text().splitlines()] == ["start", "end"]


def test_the_dbt_resource_knows_dbts_version_without_starting_dbt(monkeypatch):
    """dagster-dbt asks ``dbt --version`` (a whole dbt start) which engine it runs; the
    resource answers from the installed dbt-core, the version that command prints."""
    from dagster_dbt.core import resource as dagster_dbt_resource

    from dagster_project.transform.project import dbt_project, dbt_resource

    dbt = Path(sys.executable).with_name("dbt")
    printed = subprocess.run([dbt, "--version"], capture_output=True, text=True, check=True)
    started = []
    monkeypatch.setattr(dagster_dbt_resource, "check_output", lambda *args: started.append(args))
    answered = dbt_resource(dbt_project())._cli_version
    assert started == []
    assert f"installed: {answered}" in printed.stdout
    assert answered.major == 1  # dbt Core, not the Fusion engine
