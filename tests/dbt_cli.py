"""dbt for tests: in its own process, as the pipeline runs it (no DuckDB connection outlives a
call), with its artefacts in ``work/target`` and its logs in ``work/logs``."""

import os
import subprocess
import sys
from pathlib import Path

from dagster_project.core.settings import DBT_PROJECT_DIR

DBT = Path(sys.executable).with_name("dbt")


def run_dbt(
    work: Path, *args: str, data_dir: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``dbt <args>`` on this project; over the warehouse of ``data_dir`` when given
    (``KPI_DATA_DIR``, which the profile reads), else the environment's."""
    env = os.environ | {
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if data_dir is not None:
        env["KPI_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [
            str(DBT),
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
