"""dbt for tests, run in this process through dbt's programmatic entry point (``dbtRunner``)
with the arguments its command line takes, its artefacts in ``work/target`` and its logs in
``work/logs``. A dbt process costs about 3 s of interpreter start and imports before its first
node, and the tests start dbt some 35 times: in-process, a test worker pays the imports once.
The pipeline itself still runs dbt in its own process (dagster-dbt), and its tests run it so.

dbt-duckdb keeps its database open between invocations of one process; each call closes it,
so that no DuckDB connection outlives a call (a test then opens the warehouse read-only, which
DuckDB refuses within one process while a read-write connection to it is open).

Every call of a test process starts from the parse the call before it saved, the first from
the session's shared one (the profile names no data directory, so a parse serves them all). A
call with ``--vars`` parses everything (dbt's rule), and its parse is not kept for the calls
after it.
"""

import atexit
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner
from dbt.constants import PARTIAL_PARSE_FILE_NAME
from dbt_common.events.functions import capture_stdout_logs, stop_capture_stdout_logs

from dagster_project.core.settings import DBT_PROJECT_DIR

_HOME = Path(tempfile.mkdtemp(prefix="kpi-dbt-"))  # this process's; removed at its exit
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
_SAVED_PARSE = _HOME / PARTIAL_PARSE_FILE_NAME


def run_dbt(
    work: Path, *args: str, data_dir: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``dbt <args>`` on this project, with ``env`` added to the environment; over the
    warehouse of ``data_dir`` when given, else of the environment's ``KPI_DATA_DIR``. Returns
    what the command line would: exit code 0 (success), 1 (a node failed) or 2 (dbt raised),
    and its console output."""
    data_dir = data_dir if data_dir is not None else Path(os.environ["KPI_DATA_DIR"])
    target = work / "target"
    saved_parses = [_SAVED_PARSE]
    if cache := os.environ.get("KPI_DBT_PARSE_CACHE"):
        # the first call of a process: the session's shared parse (tests/conftest.py)
        saved_parses.append(Path(cache) / PARTIAL_PARSE_FILE_NAME)
    saved = next((path for path in saved_parses if path.exists()), None)
    parse_from = ["--partial-parse-file-path", str(saved)] if saved else []
    argv = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        *parse_from,
    ]
    completed = _invoke(
        argv,
        (env or {})
        | {
            "KPI_DATA_DIR": str(data_dir.resolve()),
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(work / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
    )
    saved = target / PARTIAL_PARSE_FILE_NAME
    if saved.exists() and "--vars" not in args:
        staged = _HOME / "parse.new"
        shutil.copyfile(saved, staged)
        staged.replace(_SAVED_PARSE)
    return completed


def _invoke(argv: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess:
    """One dbt invocation with ``environ`` in ``os.environ`` (dbt reads its flags and the
    profile's variables there), its console output captured."""
    before = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    console = io.StringIO()
    capture_stdout_logs(console)
    try:
        result = dbtRunner().invoke(argv)
    finally:
        stop_capture_stdout_logs()
        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager.close_all_connections()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    status = 0 if result.success else 1 if result.exception is None else 2
    error = result.exception
    error = "" if error is None else f"{type(error).__name__}: {error}"
    return subprocess.CompletedProcess(["dbt", *argv], status, console.getvalue(), error)
