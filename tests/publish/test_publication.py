"""Write-audit-publish: what the demo's publication holds; on the small shop, that readers never
see a half-written one and that a failed gate changes nothing readers see."""

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

import duckdb

from dagster_project.publish.publication import GateResult, publish, published_path
from demo_shop import generate
from demo_shop.truths import DEMO
from tests.conftest import SMALL_SHOP, sha256

READER = Path(__file__).with_name("reader.py")


def test_the_demo_refresh_published_marts_parquet_and_report(demo_pipeline):
    settings = demo_pipeline
    con = duckdb.connect(str(published_path(settings)), read_only=True)
    tables = {name for (name,) in con.execute("show tables").fetchall()}
    assert {
        "kpi_daily",
        "kpi_orders_daily",
        "kpi_campaigns",
        "dim_kpis",
        "dim_date",
        "publication_log",
    } <= tables
    assert not any(name.startswith("fct_") for name in tables)
    (log,) = con.execute(
        "select outcome, checks_failed, checks_passed > 0, as_of_date, rows_per_table"
        " from publication_log"
    ).fetchall()
    assert log[:4] == ("published", 0, True, DEMO.start.replace(month=11, day=30))
    for table in tables:
        parquet = settings.published_dir / "parquet" / f"{table}.parquet"
        rows = con.execute(f"select count(*) from '{parquet}'").fetchall()[0][0]
        assert rows == con.execute(f"select count(*) from {table}").fetchall()[0][0], table
        if table != "publication_log":
            assert log[4][table] == rows
    assert settings.report_file.stat().st_size > 10_000
    assert list((settings.data_dir / "audit" / "data_docs").glob("*/index.html"))


def _wait_until_seen(out: Path, condition, timeout: float = 120) -> None:
    seen = out.with_suffix(".seen")
    deadline = time.monotonic() + timeout
    while not (seen.exists() and condition(seen.read_text())):
        assert time.monotonic() < deadline, "the reader did not keep up"
        time.sleep(0.05)


def test_readers_see_exactly_one_whole_publication_at_a_time(small_shop_copy, tmp_path):
    out, stop = tmp_path / "answers.json", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, str(READER), str(published_path(small_shop_copy)), str(out), str(stop)]
    )
    try:
        # the reader has answered before the first publication and after the last one (a
        # loaded machine can take seconds to start a Python process)
        _wait_until_seen(out, lambda run_id: bool(run_id))
        for run in ("concurrent-1", "concurrent-2", "concurrent-3"):
            publish(small_shop_copy, run, GateResult(checks_passed=1))
        _wait_until_seen(out, lambda run_id: run_id == "concurrent-3")
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())
    assert result["errors"] == []
    by_run = {}
    for run_id, log_rows, kpi_rows, kpi_sum in result["answers"]:
        by_run.setdefault(run_id, set()).add((log_rows, kpi_rows, kpi_sum))
    # every answer matches the one publication its log names, and the reader saw them change
    assert all(len(contents) == 1 for contents in by_run.values()), by_run
    assert len(by_run) >= 2
    print(
        f"{len(result['answers'])} answers from {len(by_run)} publications, 0 errors, "
        f"{len(result['open_races'])} connects lost the open race"
    )


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_defect_blocks_the_refresh_and_leaves_the_publication_untouched(small_shop_copy):
    shop = small_shop_copy
    before = sha256(published_path(shop))
    report_before = sha256(shop.report_file)
    (defect,) = generate(
        shop.landing_dir, **asdict(SMALL_SHOP), defects=["truncated_gzip"]
    ).defect_files
    day = defect.parent.name.removeprefix("dt=")  # the refresh of the day it was delivered
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret_url = f"http://127.0.0.1:{server.server_port}/hook?token=s3cret"
    try:
        result = subprocess.run(
            [str(Path(sys.executable).with_name("kpi")), "refresh", "--date", day],
            env=os.environ | {"KPI_DATA_DIR": str(shop.data_dir), "KPI_ALERT_WEBHOOK": secret_url},
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        server.shutdown()
    assert result.returncode != 0
    assert "publication blocked" in result.stderr
    assert "raw/events:contract" in result.stderr
    assert sha256(published_path(shop)) == before
    assert sha256(shop.report_file) == report_before
    (alert,) = _Hook.received
    assert alert["event"] == "publication_blocked"
    assert "raw/events:contract" in alert["failed_checks"]
    assert "s3cret" not in result.stdout + result.stderr
    con = duckdb.connect(str(shop.build_db), read_only=True)
    last = con.execute(
        "select outcome, failed_checks from audit.publication_log order by finished_at desc limit 1"
    ).fetchall()[0]
    assert last[0] == "blocked" and "raw/events:contract" in last[1]


def _tiny_build(settings, day: str) -> None:
    """A build warehouse holding just what publish() copies: one KPI mart and bookkeeping."""
    from dagster_project.core import warehouse
    from dagster_project.ingest import contract
    from dagster_project.ingest.loader import ensure_tables

    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with warehouse.connect(settings) as con:
        ensure_tables(con, contract.table("orders"))
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_daily as"
            f" select date '{day}' as kpi_date, 'all' as dimension, 1 as value"
        )
        con.execute(
            "create table marts.dim_kpis as select 'orders' as kpi_id, true as is_available"
        )


def test_a_full_rebuild_keeps_the_publication_history(isolated_data_dir):
    from dagster_project.core.settings import Settings
    from dagster_project.publish.publication import record_blocked

    settings = Settings.from_env()
    _tiny_build(settings, "2025-06-01")
    publish(settings, "run-1", GateResult(checks_passed=3))
    record_blocked(settings, "run-2", GateResult(1, ["raw/orders:contract"]), "blocked: x")
    publish(settings, "run-3", GateResult(checks_passed=3, warnings=["a:b"], reasons={"a:b": "y"}))

    settings.build_db.unlink()  # the full rebuild docs/mart.md prescribes
    _tiny_build(settings, "2025-06-02")
    publish(settings, "run-4", GateResult(checks_passed=3))

    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        log = con.execute(
            "select run_id, outcome, as_of_date::varchar, warnings from publication_log"
            " order by finished_at"
        ).fetchall()
    assert log == [
        ("run-1", "published", "2025-06-01", []),
        ("run-2", "blocked", None, []),
        ("run-3", "published", "2025-06-01", ["a:b: y"]),
        ("run-4", "published", "2025-06-02", []),
    ]
