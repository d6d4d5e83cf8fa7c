"""dbt for tests: in its own process, as the pipeline runs it (no DuckDB connection outlives a
call), with its artefacts in ``work/target`` and its logs in ``work/logs``.

Every call of a test process starts from the parse the call before it saved, the first from
the session's shared one (the profile names no data directory, so a parse serves them all). A
call with ``--vars`` parses everything (dbt's rule), and its parse is not kept for the calls
after it.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dbt.constants import PARTIAL_PARSE_FILE_NAME

from dagster_project.core.settings import DBT_PROJECT_DIR

DBT = Path(sys.executable).with_name("dbt")

_HOME = Path(tempfile.mkdtemp(prefix="kpi-dbt-"))  # this process's; removed at its exit
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
_SAVED_PARSE = _HOME / PARTIAL_PARSE_FILE_NAME


def run_dbt(
    work: Path,
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """``dbt <args>`` on this project, with ``env`` added to the environment; over the
    warehouse of ``data_dir`` when given, else of the environment's ``KPI_DATA_DIR``."""
    data_dir = data_dir if data_dir is not None else Path(os.environ["KPI_DATA_DIR"])
    target = work / "target"
    saved_parses = [_SAVED_PARSE]
    if cache := os.environ.get("KPI_DBT_PARSE_CACHE"):
        # the first call of a process: the session's shared parse (tests/conftest.py)
        saved_parses.append(Path(cache) / PARTIAL_PARSE_FILE_NAME)
    saved = next((path for path in saved_parses if path.exists()), None)
    parse_from = ["--partial-parse-file-path", str(saved)] if saved else []
    completed = subprocess.run(
        [
            str(DBT),
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            *parse_from,
        ],
        env=os.environ
        | (env or {})
        | {
            "KPI_DATA_DIR": str(data_dir.resolve()),
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(work / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    saved = target / PARTIAL_PARSE_FILE_NAME
    if saved.exists() and "--vars" not in args:
        staged = _HOME / "parse.new"
        shutil.copyfile(saved, staged)
        staged.replace(_SAVED_PARSE)
    return completed
