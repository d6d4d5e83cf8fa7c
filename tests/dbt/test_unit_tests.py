"""dbt's unit tests: each model's logic on hand-made fixture rows.

The nightly build leaves them out (they test code, not data); they run here, against a copy
of the demo warehouse so that dbt can read the input tables' column types.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import DBT_PROJECT_DIR

DBT = Path(sys.executable).with_name("dbt")


def test_every_dbt_unit_test_passes(demo_pipeline, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    shutil.copy(demo_pipeline.build_db, data_dir / "warehouse" / "build.duckdb")
    target = tmp_path / "target"
    completed = subprocess.run(
        [str(DBT), "test", "--select", "test_type:unit", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env=os.environ | {"KPI_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_tests = set(manifest["unit_tests"])
    assert len(unit_tests) >= 40
    assert {r["unique_id"] for r in results} == unit_tests
    assert {r["status"] for r in results} == {"pass"}
