"""`kpi ui` serves the whole pipeline: assets, checks, schedules and sensors, with a daemon;
SIGTERM or Ctrl-C stops it and every process it started."""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

KPI = Path(sys.executable).with_name("kpi")

QUERY = """
{
  assetNodes { assetKey { path } }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        schedules { name scheduleState { status } }
        sensors { name sensorState { status } }
      }
    }
  }
  instance { daemonHealth { allDaemonStatuses { daemonType healthy } } }
}
"""
CHECKS = """
query ($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks { name } } } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body.get("errors")
    return body["data"]


def _wait_for(port: int, ready, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            data = _graphql(port, QUERY)
            if ready(data):
                return data
        except OSError as error:  # not listening yet
            last_error = error
        time.sleep(2)
    raise AssertionError(f"kpi ui was not ready within {timeout} s ({last_error})")


def _kill_left_over(processes: list[psutil.Process]) -> None:
    """SIGKILL, by PID, whatever a failed test left running."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(processes, timeout=10)


def _ignore_stop_signals() -> None:
    # as these machines may start processes (see ARCHITECTURE.md): SIG_IGN survives exec
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignoring_stop_signals(processes: list[psutil.Process]) -> list[str]:
    """The processes that ignore SIGTERM or SIGINT (SigIgn in /proc: bit N-1 is signal N),
    but for Python's multiprocessing resource tracker, which ignores them by design (it ends
    when the process that started it does)."""
    ignoring = []
    for process in processes:
        with contextlib.suppress(psutil.Error, FileNotFoundError):
            status = Path(f"/proc/{process.pid}/status").read_text()
            mask = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", status, re.MULTILINE).group(1), 16)
            command = " ".join(process.cmdline())
            ignores = any(mask >> (s - 1) & 1 for s in (signal.SIGTERM, signal.SIGINT))
            if ignores and "multiprocessing.resource_tracker" not in command:
                ignoring.append(command)
    return ignoring


def _daemon_healthy(data: dict) -> bool:
    statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
    return any(s["daemonType"] == "SCHEDULER" and s["healthy"] for s in statuses)


# SIGTERM here; Ctrl-C (SIGINT) stops `kpi bi` in tests/serve/test_bi.py and SIGHUP the
# stubborn stand-in below: the same supervisor (core/supervise.py) behind all three.
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM], ids=lambda s: s.name)
def test_kpi_ui_shows_the_pipeline_and_stops_with_all_it_started(stop_signal, tmp_path):
    port = _free_port()
    log = tmp_path / "kpi-ui.log"
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        child = subprocess.Popen(
            [str(KPI), "ui", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_ignore_stop_signals,
        )
    root = psutil.Process(child.pid)
    family = [root]
    try:
        data = _wait_for(port, _daemon_healthy)
        keys = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
        for key in (
            "raw/orders",
            "staging/stg_orders",
            "marts/fct_orders",
            "marts/kpi_daily",
            "published/kpi_mart",
            "reports/kpi_report",
        ):
            assert key in keys
        (repository,) = data["repositoriesOrError"]["nodes"]
        schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
        sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
        assert schedules == {"nightly_refresh": "RUNNING", "freshness_schedule": "RUNNING"}
        assert sensors == {
            "landing_sensor": "RUNNING",
            "alert_on_run_failure": "RUNNING",
            "alert_on_stale_data": "RUNNING",
        }
        checks = {}
        for path in (["raw", "orders"], ["marts", "kpi_daily"], ["published", "kpi_mart"]):
            node = _graphql(port, CHECKS, {"path": path})["assetNodeOrError"]
            checks["/".join(path)] = {c["name"] for c in node["assetChecksOrError"]["checks"]}
        assert {"contract", "freshness_check", "gx_volume_raw"} <= checks["raw/orders"]
        assert {"gx_kpi_daily", "gx_reconciliation"} <= checks["marts/kpi_daily"]
        assert "freshness_check" in checks["published/kpi_mart"]

        family = [root, *root.children(recursive=True)]
        # kpi, dagster dev, the webserver, the daemon (and code servers)
        assert len(family) >= 4, family
        ignoring = _ignoring_stop_signals(family)

        os.kill(root.pid, stop_signal)
        try:
            code = child.wait(timeout=90)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"kpi ui still running:\n{log.read_text()[-3000:]}") from None
        # it ends as killed by the signal it was sent, as a shell expects (128 + N)
        assert code == -stop_signal, log.read_text()[-3000:]
        _, alive = psutil.wait_procs(family[1:], timeout=30)
        assert alive == [], f"processes left running: {alive}\n{log.read_text()[-3000:]}"
        # kpi ui was started with both ignored, yet none of its processes ignored them: they
        # stop when asked (else only the supervisor's SIGKILL, 20 s later, would stop them)
        assert ignoring == []
    finally:
        _kill_left_over([*family, *root.children(recursive=True)] if root.is_running() else family)


# A stand-in for dagster dev that will not stop: it ignores SIGTERM, SIGINT and SIGHUP on
# purpose, and starts a grandchild in a session of its own (outside the process group).
STUBBORN = """
import signal, subprocess, sys, time
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                              start_new_session=True)
print(grandchild.pid, flush=True)
time.sleep(300)
"""
SUPERVISE = """
import sys
from dagster_project.core.supervise import supervise
supervise([sys.executable, "-c", sys.argv[1]], "stubborn", grace=1)
"""


def test_what_does_not_stop_when_asked_is_killed_after_the_grace_period():
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISE, STUBBORN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_stop_signals,
    )
    root = psutil.Process(supervisor.pid)
    family = [root]
    try:
        grandchild = psutil.Process(int(supervisor.stdout.readline()))
        family = [root, *root.children(recursive=True)]
        assert grandchild in family and len(family) == 3
        os.kill(supervisor.pid, signal.SIGHUP)  # the terminal went away
        _, errors = supervisor.communicate(timeout=60)
        assert supervisor.returncode == -signal.SIGHUP, errors
        assert "killing 2 processes still running" in errors
        _, alive = psutil.wait_procs(family[1:], timeout=30)
        assert alive == []
    finally:
        _kill_left_over(family)
