"""The dbt project parses and declares exactly the contract's raw tables as sources."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

from dagster_project.ingest import contract
from dagster_project.settings import DBT_PROJECT_DIR


def test_dbt_sources_are_the_contract_tables():
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_raw__sources.yml").read_text())
    (raw,) = [s for s in sources["sources"] if s["name"] == "raw"]
    assert [t["name"] for t in raw["tables"]] == list(contract.tables())


def test_dbt_project_parses(isolated_data_dir: Path, tmp_path: Path):
    dbt = Path(sys.executable).with_name("dbt")
    env = os.environ | {
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [
            str(dbt),
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "target" / "manifest.json").exists()
