"""`kpi ui` serves the whole pipeline: assets, checks, schedules and sensors, with a daemon."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

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


def _stop(root: psutil.Process) -> list[int]:
    """Stop every process kpi ui started, by PID; return the PIDs still alive afterwards."""
    family = [root, *root.children(recursive=True)]
    for process in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(family, timeout=30)
    for process in alive:
        os.kill(process.pid, signal.SIGKILL)
    _, alive = psutil.wait_procs(alive, timeout=10)
    return [p.pid for p in alive]


def _daemon_healthy(data: dict) -> bool:
    statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
    return any(s["daemonType"] == "SCHEDULER" and s["healthy"] for s in statuses)


def test_kpi_ui_shows_the_graph_checks_schedule_and_sensors(isolated_data_dir):
    port = _free_port()
    child = subprocess.Popen(
        [str(KPI), "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    root = psutil.Process(child.pid)
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
        assert sensors == {"landing_sensor": "RUNNING", "alert_on_run_failure": "RUNNING"}
        checks = {}
        for path in (["raw", "orders"], ["marts", "kpi_daily"], ["published", "kpi_mart"]):
            node = _graphql(port, CHECKS, {"path": path})["assetNodeOrError"]
            checks["/".join(path)] = {c["name"] for c in node["assetChecksOrError"]["checks"]}
        assert {"contract", "freshness", "gx_volume_raw"} <= checks["raw/orders"]
        assert {"gx_kpi_daily", "gx_reconciliation"} <= checks["marts/kpi_daily"]
        assert "freshness" in checks["published/kpi_mart"]
        pids = [root.pid, *(p.pid for p in root.children(recursive=True))]
        assert len(pids) >= 3  # dagster dev, the webserver, the daemon (and code servers)
    finally:
        alive = _stop(root)
    assert alive == [], f"processes left running: {alive}"
    assert child.wait(timeout=10) is not None
