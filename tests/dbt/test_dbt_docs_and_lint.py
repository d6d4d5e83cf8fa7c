"""The dbt project documents, types and tests every model, its KPI metadata agrees with the KPI
registry, and SQLFluff passes.

Reads the manifest of `dbt parse` (no warehouse needed): columns and tests there are the YAML's.
That the YAML columns match what the SQL produces is enforced by the marts' contracts at build.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.core.settings import DBT_PROJECT_DIR
from dagster_project.transform import registry
from tests.dbt_cli import run_dbt

REPO_DIR = DBT_PROJECT_DIR.parent
PROJECT = "ecommerce_kpi"
PRIMARY_KEY_TESTS = {"unique", "unique_combination", "unique_written"}
RATIO_TEST = "ratio_is_consistent"  # on one column
RATIOS_TEST = "ratios_are_consistent"  # on a model, its argument `ratios` the columns


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _isolated_env(root: Path) -> dict[str, str]:
    """dbt (and SQLFluff's dbt templater) writing only under `root`, never in the repository."""
    (root / "data" / "warehouse").mkdir(parents=True, exist_ok=True)
    return os.environ | {
        "KPI_DATA_DIR": str(root / "data"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@pytest.fixture(scope="module")
def sqlfluff_lint(tmp_path_factory):
    """`sqlfluff lint` in the background (the slow part), started before dbt parses."""
    env = _isolated_env(tmp_path_factory.mktemp("sqlfluff"))
    process = subprocess.Popen(
        [_tool("sqlfluff"), "lint", "dbt_models/models", "dbt_models/macros"],
        cwd=REPO_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def manifest(sqlfluff_lint, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("dbt_parse")
    result = run_dbt(root, "parse", data_dir=root / "data")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((root / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def models(manifest) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == PROJECT
    }


@pytest.fixture(scope="module")
def tests_by_model(manifest) -> dict[str, list[dict]]:
    """Generic data tests per model name (unit tests are not data tests)."""
    found: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            attached = node.get("attached_node") or ""
            found.setdefault(attached.rsplit(".", 1)[-1], []).append(node)
    return found


def _is_mart(node: dict) -> bool:
    return node["original_file_path"].startswith("models/marts/")


def _kpi_columns(models: dict[str, dict]) -> dict[str, set[str]]:
    """KPI ids per model, from its columns' meta.kpi_id."""
    published: dict[str, set[str]] = {}
    for name, node in models.items():
        for column in node["columns"].values():
            kpi_id = (column.get("meta") or {}).get("kpi_id") or (
                (column.get("config") or {}).get("meta") or {}
            ).get("kpi_id")
            if kpi_id:
                published.setdefault(name, set()).add(kpi_id)
    return published


# --- (a) documentation and tests ------------------------------------------------------------


def test_every_model_file_is_a_model(models):
    sql_files = {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    assert sql_files == set(models)


def test_every_model_has_a_yaml_entry_with_a_description(models):
    missing = sorted(name for name, node in models.items() if not node.get("patch_path"))
    undescribed = sorted(name for name, node in models.items() if not node["description"].strip())
    assert missing == [], f"models without a YAML entry: {missing}"
    assert undescribed == [], f"models without a description: {undescribed}"


def test_every_documented_column_has_a_description_and_a_data_type(models):
    gaps = [
        f"{name}.{column_name}"
        for name, node in models.items()
        for column_name, column in node["columns"].items()
        if not column["description"].strip() or not column.get("data_type")
    ]
    assert gaps == []


def test_every_model_enforces_a_fully_documented_contract(models):
    """dbt_project.yml enforces every model's contract: its documented names and types are the
    table's, and its not_null constraints are checked on the rows dbt writes."""
    uncontracted = sorted(n for n, node in models.items() if not node["contract"]["enforced"])
    without_columns = sorted(n for n, node in models.items() if not node["columns"])
    assert uncontracted == [], f"models without an enforced contract: {uncontracted}"
    assert without_columns == [], f"models without documented columns: {without_columns}"


def test_every_model_has_a_primary_key_test(models, tests_by_model):
    untested = sorted(
        name
        for name in models
        if not any(
            test["test_metadata"]["name"] in PRIMARY_KEY_TESTS
            for test in tests_by_model.get(name, [])
        )
    )
    assert untested == [], f"models without a unique / unique_combination test: {untested}"


def test_every_key_column_is_not_null(models, tests_by_model):
    """A unique or unique_combination test lets NULLs through (they group together): each of
    its columns carries a not_null constraint, which DuckDB enforces while dbt writes the
    table (tests/dbt/test_constraints.py); in a view, which DuckDB checks no constraint of, a
    not_null test."""

    def not_null(name: str, node: dict, column: str) -> bool:
        if node["config"]["materialized"] != "view":
            constraints = node["columns"][column].get("constraints", [])
            return "not_null" in {c["type"] for c in constraints}
        return any(
            test["test_metadata"]["name"] == "not_null" and test.get("column_name") == column
            for test in tests_by_model.get(name, [])
        )

    nullable = sorted(
        f"{name}.{column}"
        for name, node in models.items()
        for test in tests_by_model.get(name, [])
        if test["test_metadata"]["name"] in PRIMARY_KEY_TESTS
        for column in (test["test_metadata"]["kwargs"].get("columns") or [test.get("column_name")])
        if not not_null(name, node, column)
    )
    assert nullable == []


def test_no_view_declares_a_constraint(models):
    """DuckDB checks no constraint of a view (dbt warns and ignores them): a view's never-NULL
    columns carry not_null tests instead."""
    ignored = sorted(
        f"{name}.{column_name}"
        for name, node in models.items()
        if node["config"]["materialized"] == "view"
        for column_name, column in node["columns"].items()
        if column.get("constraints")
    )
    assert ignored == []


def test_every_ratio_of_the_kpi_marts_is_checked(models, tests_by_model):
    """A column <id>_denominator makes <id> a ratio value: the ratio test must cover it."""
    unchecked = []
    for name, node in models.items():
        if not node["original_file_path"].startswith("models/marts/kpi/"):
            continue
        for column_name in node["columns"]:
            if not column_name.endswith("_denominator"):
                continue
            value = column_name.removesuffix("_denominator")
            checked = any(
                (metadata["name"] == RATIO_TEST and test.get("column_name") == value)
                or (metadata["name"] == RATIOS_TEST and value in metadata["kwargs"]["ratios"])
                for test in tests_by_model.get(name, [])
                for metadata in [test["test_metadata"]]
            )
            if value not in node["columns"] or not checked:
                unchecked.append(f"{name}.{value}")
    assert unchecked == []


# --- (b) KPI metadata agrees with the registry ----------------------------------------------


def test_registry_ids_are_unique_and_name_existing_marts(models):
    kpis = registry.kpis()
    ids = [kpi["id"] for kpi in kpis]
    assert len(ids) == len(set(ids)), "duplicate KPI ids in the registry"
    unknown_marts = sorted({kpi["mart"] for kpi in kpis} - set(models))
    assert unknown_marts == []


def test_every_kpi_id_on_a_column_is_in_the_registry(models):
    registered = {kpi["id"] for kpi in registry.kpis()}
    published = _kpi_columns(models)
    assert published, "no column carries meta.kpi_id"
    unknown = sorted(
        f"{model}: {kpi_id}"
        for model, kpi_ids in published.items()
        for kpi_id in kpi_ids - registered
    )
    outside_marts = sorted(model for model in published if not _is_mart(models[model]))
    assert unknown == [], "meta.kpi_id not in the registry"
    assert outside_marts == [], "meta.kpi_id outside the marts"


def test_every_registered_kpi_is_published_by_its_mart(models):
    published = _kpi_columns(models)
    unpublished = sorted(
        f"{kpi['id']} (mart {kpi['mart']})"
        for kpi in registry.kpis()
        if kpi["id"] not in published.get(kpi["mart"], set())
    )
    assert unpublished == []


# --- (c) SQLFluff -----------------------------------------------------------------------------


@pytest.mark.slow
def test_sqlfluff_lint_passes(sqlfluff_lint):
    """The dbt templater compiles every model: about 45 s, run while dbt parses."""
    output, _ = sqlfluff_lint.communicate(timeout=240)
    report = "\n".join(line for line in output.splitlines() if not line.startswith("WARNING"))
    assert sqlfluff_lint.returncode == 0, report
