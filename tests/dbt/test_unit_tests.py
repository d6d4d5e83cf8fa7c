"""dbt's unit tests: each model's logic on hand-made fixture rows.

The nightly build leaves them out (they test code, not data); they run here, against a copy
of the demo warehouse so that dbt can read the input tables' column types.
"""

import json
import shutil

from tests.dbt_cli import run_dbt


def test_every_dbt_unit_test_passes(demo_pipeline, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    shutil.copy(demo_pipeline.build_db, data_dir / "warehouse" / "build.duckdb")
    completed = run_dbt(tmp_path, "test", "--select", "test_type:unit", data_dir=data_dir)
    target = tmp_path / "target"
    assert completed.returncode == 0, completed.stdout[-4000:]
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_tests = set(manifest["unit_tests"])
    assert len(unit_tests) >= 40
    assert {r["unique_id"] for r in results} == unit_tests
    assert {r["status"] for r in results} == {"pass"}
