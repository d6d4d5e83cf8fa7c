"""The dbt project parses, declares exactly the contract's raw tables as sources, and its
DuckDB connection is configured like every other pipeline connection."""

import json
import subprocess
from pathlib import Path

import duckdb
import yaml

from dagster_project.core.settings import DBT_PROJECT_DIR, Settings
from dagster_project.ingest import contract
from dagster_project.transform import registry
from tests.dbt_cli import run_dbt


def test_dbt_sources_are_the_contract_tables():
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_raw__sources.yml").read_text())
    (raw,) = [s for s in sources["sources"] if s["name"] == "raw"]
    assert [t["name"] for t in raw["tables"]] == list(contract.tables())


def test_every_kpi_in_the_registry_has_exactly_the_fields_dim_kpis_reads():
    # a flow mapping splits an unquoted value at its commas: "name: Tickets per 1,000 orders"
    # gives the name "Tickets per 1" and a stray key "000 orders"
    sources = set(contract.tables())
    kpis = registry.kpis()
    assert len(kpis) == len({kpi["id"] for kpi in kpis}) > 60  # each defined once
    for kpi in kpis:
        assert set(kpi) == {"id", *registry.FIELDS}, kpi["id"]
        assert all(value not in (None, "") for value in kpi.values()), kpi["id"]
        # the contract tables the KPI cannot be computed without (none: the scorecard)
        assert set(kpi["sources"]) <= sources, kpi["id"]


def dbt(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    result = run_dbt(tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_dbt_project_parses(isolated_data_dir: Path, tmp_path: Path):
    dbt(tmp_path, "parse")
    assert (tmp_path / "target" / "manifest.json").exists()


def test_dbt_connects_with_the_pipelines_duckdb_settings(
    isolated_data_dir: Path, tmp_path: Path, monkeypatch
):
    """Memory limit, threads and spill folder: dbt's connection spilled into DuckDB's default
    build.duckdb.tmp once, unseen by `kpi-bench` and beside the folder the rest uses."""
    monkeypatch.setenv("KPI_DUCKDB_MEMORY_LIMIT", "3GB")
    monkeypatch.setenv("KPI_DUCKDB_THREADS", "1")
    settings = Settings.from_env()
    settings.warehouse_dir.mkdir(parents=True)
    names = list(settings.duckdb_config())
    query = "select " + ", ".join(f"current_setting('{name}') as {name}" for name in names)
    shown = dbt(tmp_path, "show", "--inline", query, "--output", "json", "--log-format", "json")
    (dbt_settings,) = [
        json.loads(line)["data"]["preview"]
        for line in shown.stdout.splitlines()
        if '"preview"' in line
    ]
    with duckdb.connect(config=settings.duckdb_config()) as con:
        expected = con.execute(query).fetchone()
    assert json.loads(dbt_settings) == [dict(zip(names, expected, strict=True))]


def test_a_build_that_spills_keeps_building(demo_copy, tmp_path: Path, monkeypatch):
    """DuckDB refuses to set temp_directory again once a connection has spilled: set per cursor
    (dbt's `settings`), it failed every model after the first spill (a large full refresh). At
    a 128 MB memory limit the demo's staging spills; every model must still build."""
    monkeypatch.setenv("KPI_DUCKDB_MEMORY_LIMIT", "128MB")
    result = run_dbt(tmp_path, "run", "--full-refresh", "--select", "staging")
    assert "Cannot switch temporary directory" not in result.stdout
    assert result.returncode == 0, result.stdout[-4000:]
