"""`kpi-bench`: what can be checked without timing anything.

The step classifier on the refresh job's real steps, stage times read back from a real Dagster
run, peak memory of a process tree, the landing cache and its links, the whole command on a
seven-day shop (its floor computing the same marts as the pipeline), and the result document,
its markdown and the README table. No assertion here is about how fast anything is.
"""

import json
import os
import sys
import textwrap
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import click
import dagster as dg
import pytest
from click.testing import CliRunner

from bench import SIZES, BenchPaths, Size, cli
from bench.cli import bench
from bench.floor import plan
from bench.landing import ensure_cache, landing_days, link_days
from bench.measure import (
    STAGES,
    classify_step,
    dbt_node_seconds,
    dir_bytes,
    run_measured,
    run_times,
    stage_seconds,
)
from bench.results import goals as goals_of
from bench.results import readme_section, render_markdown, write_results
from bench.runner import aggregate, compare_rows, describe_mismatches
from dagster_project.core.settings import Settings

MIB = 1024**2


@pytest.mark.parametrize(
    ("step_key", "stage"),
    [
        ("raw__orders", "ingest"),
        ("raw__order_items", "ingest"),
        ("raw__orders_contract", "audit"),
        ("raw__support_tickets_contract", "audit"),
        ("audit_raw", "audit"),
        ("audit", "audit"),
        ("dbt_models", "transform"),
        ("dbt_daily_facts", "transform"),
        ("dbt_models_2", "transform"),
        ("published__kpi_mart", "publish"),
        ("reports__kpi_report", "report"),
        ("something_new", "other"),
    ],
)
def test_classify_step(step_key, stage):
    assert classify_step(step_key) == stage


def test_every_step_of_the_refresh_job_has_a_stage():
    from dagster_project.definitions import defs

    steps = [node.name for node in defs.resolve_job_def("refresh").graph.nodes]
    stages = {step: classify_step(step) for step in steps}
    assert not [step for step, stage in stages.items() if stage == "other"], stages
    assert set(stages.values()) == set(STAGES)


def test_stage_seconds_from_a_real_dagster_run():
    @dg.op
    def raw__orders():
        return 1

    @dg.op
    def raw__orders_contract(rows):
        return rows

    @dg.op
    def dbt_models(rows):
        return rows

    @dg.op
    def audit(rows):
        return rows

    @dg.op
    def published__kpi_mart(rows):
        return rows

    @dg.op
    def reports__kpi_report(rows):
        return rows

    @dg.job
    def toy():
        reports__kpi_report(
            published__kpi_mart(audit(dbt_models(raw__orders_contract(raw__orders()))))
        )

    with dg.DagsterInstance.ephemeral() as instance:
        result = toy.execute_in_process(instance=instance)
        times = run_times(instance, result.run_id)
    assert times.status == "SUCCESS"
    assert {s.key: s.stage for s in times.steps} == {
        "raw__orders": "ingest",
        "raw__orders_contract": "audit",
        "dbt_models": "transform",
        "audit": "audit",
        "published__kpi_mart": "publish",
        "reports__kpi_report": "report",
    }
    assert all(s.seconds is not None and s.seconds >= 0 for s in times.steps)
    wall = times.duration_s + 3.0
    seconds = stage_seconds(times, wall)
    assert set(seconds) == {*STAGES, "other", "orchestration", "startup"}
    assert sum(seconds.values()) == pytest.approx(wall)
    assert seconds["startup"] == pytest.approx(3.0)
    assert seconds["other"] == 0


def test_peak_memory_covers_the_whole_process_tree(tmp_path):
    """A parent that holds little starts a child that holds 150 MiB and spills 8 MiB."""
    spill = tmp_path / "spill"
    child = textwrap.dedent(
        f"""
        import os, time
        held = b"x" * {150 * MIB}
        os.makedirs({str(spill)!r}, exist_ok=True)
        with open(os.path.join({str(spill)!r}, "block"), "wb") as f:
            f.write(b"y" * {8 * MIB})
        time.sleep(1.5)
        os.remove(os.path.join({str(spill)!r}, "block"))
        """
    )
    parent = f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', {child!r}]))"
    measured = run_measured(
        [sys.executable, "-c", parent],
        os.environ,
        tmp_path / "logs" / "tree.log",
        cwd=tmp_path,
        spill_dirs=[spill],
    )
    assert measured.exit_code == 0, measured.log.read_text()
    assert measured.peak_rss_bytes >= 150 * MIB
    assert measured.peak_spill_bytes == 8 * MIB
    assert measured.log.exists()


def _deliver(landing: Path, table: str, day: str, text: str = "a\n1\n") -> Path:
    path = landing / table / f"dt={day}" / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_linking_days_of_a_landing_zone(tmp_path):
    cache = tmp_path / "cache"
    first = _deliver(cache, "orders", "2025-06-01")
    _deliver(cache, "orders", "2025-06-02")
    _deliver(cache, "customers", "2025-06-02")
    assert landing_days(cache) == [date(2025, 6, 1), date(2025, 6, 2)]

    run = tmp_path / "run"
    assert link_days(cache, run, [date(2025, 6, 1)]) == (1, 0)
    linked = run / "orders" / "dt=2025-06-01" / "orders.csv"
    assert linked.stat().st_ino == first.stat().st_ino
    assert landing_days(run) == [date(2025, 6, 1)]
    assert link_days(cache, run, [date(2025, 6, 2)]) == (2, 0)
    assert landing_days(run) == [date(2025, 6, 1), date(2025, 6, 2)]


def test_generated_data_is_cached_by_its_parameters(tmp_path):
    size = Size("test", days=7, sessions_per_day=200, default_repeat=1, history_check=False)
    cache = tmp_path / "cache"
    first = ensure_cache(cache, size, "Asia/Shanghai", echo=lambda _: None)
    assert first["cached"] is False
    assert first["total_rows"] == sum(first["rows"].values()) > 0
    assert first["rows_per_second"] > 0
    assert len(landing_days(cache / "landing")) == 7
    again = ensure_cache(cache, size, "Asia/Shanghai", echo=lambda _: None)
    assert again["cached"] is True
    assert again["generated_at"] == first["generated_at"]
    other_zone = ensure_cache(cache, size, "UTC", echo=lambda _: None)
    assert other_zone["cached"] is False
    assert other_zone["parameters"]["timezone"] == "UTC"


def test_comparing_row_counts():
    assert compare_rows({"kpi_daily": 5, "dim_date": 3}, {"kpi_daily": 5, "dim_date": 3}) == {}
    mismatches = compare_rows(
        {"kpi_daily": 5, "dim_date": None, "dim_kpis": 2},
        {"kpi_daily": 6, "dim_date": 3, "dim_kpis": None},
    )
    assert mismatches == {
        "missing_in_pipeline": ["dim_date"],
        "missing_in_floor": ["dim_kpis"],
        "differ": {"kpi_daily": {"pipeline": 5, "floor": 6}},
    }
    text = describe_mismatches(mismatches)
    assert "1 mart table(s) missing from the pipeline's build" in text
    assert "kpi_daily 5 vs 6" in text


def _refresh(wall: float, audit: float, rss: int) -> dict:
    stages = dict.fromkeys((*STAGES, "other"), 0.0) | {
        "ingest": wall * 0.2,
        "transform": wall * 0.5,
        "audit": audit,
        "orchestration": 1.0,
    }
    stages["startup"] = wall - sum(stages.values())
    return {
        "exit_code": 0,
        "out_of_memory": False,
        "wall_s": wall,
        "stage_s": stages,
        "peak_rss_bytes": rss,
        "peak_spill_bytes": 0,
    }


def _result(size: Size, walls: list[float]) -> dict:
    records = [
        {
            "index": i,
            "full_refresh": _refresh(wall, audit=wall / 20, rss=(2 + i) * 1024 * MIB),
            "incremental": _refresh(wall / 10, audit=1.0, rss=1024 * MIB),
            "floor": {
                "exit_code": 0,
                "floor_s": wall / 2,
                "stage_s": {"load_raw": 1.0, "seeds": 0.1, "models": 2.0, "checkpoint": 0.5},
                "peak_rss_bytes": 512 * MIB,
            },
            "floor_row_mismatches": {},
            "incremental_rows": {"orders": 10},
            "completed": True,
        }
        for i, wall in enumerate(walls, start=1)
    ]
    marker = {
        "parameters": {
            "start": "2025-06-01",
            "days": size.days,
            "sessions_per_day": size.sessions_per_day,
            "seed": 42,
            "timezone": "Asia/Shanghai",
        },
        "rows": {"orders": 100, "sessions": 900},
        "total_rows": 1000,
        "files": 60,
        "seconds": 0.0005,
        "rows_per_second": 2_000_000.0,
        "generated_at": "2026-01-01T00:00:00+00:00",
        "cached": True,
    }
    days = [date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)]
    return aggregate(
        size=size,
        repeat=len(walls),
        timestamp="2026-01-01T00:00:00+00:00",
        marker=marker,
        days=days,
        records=records,
        history=None,
        settings=Settings.from_env(),
        problems=[],
        other_results={},
    )


def _cells(markdown: str) -> list[list[str]]:
    """The cells of each table row (alignment rows included), without their padding."""
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("|")
    ]


def test_result_document_markdown_and_readme_table(tmp_path):
    medium = Size("medium", days=365, sessions_per_day=50_000, default_repeat=3, history_check=True)
    result = _result(medium, [100.0, 120.0, 90.0])
    required = {
        "rows",
        "full_refresh_s",
        "stage_s",
        "incremental_s",
        "floor_s",
        "peak_rss_bytes",
        "generator_rows_per_s",
        "machine",
        "git",
        "settings",
        "timestamp",
        "goals",
    }
    assert required <= set(result)
    assert result["full_refresh_s"] == {
        "median": 100.0,
        "min": 90.0,
        "max": 120.0,
        "runs": [100.0, 120.0, 90.0],
    }
    assert result["stage_s"]["audit"]["median"] == 5.0
    assert result["incremental_day"] == "2025-06-03" and result["history_days"] == 2
    assert {"cpu", "cores", "memory_bytes", "os", "python", "duckdb"} <= set(result["machine"])
    assert {"commit", "dirty"} <= set(result["git"])
    assert result["ratios"]["full_refresh_over_floor"]["runs"] == [2.0, 2.0, 2.0]
    goals = result["goals"]
    assert goals["full_refresh_over_floor"]["value"] == pytest.approx(2.0)
    assert goals["full_refresh_over_floor"] | {"value": None} == {
        "value": None,
        "goal": "<= 1.5",
        "met": False,
        "applies_at": ["medium"],
        "applies": True,
    }
    assert goals["incremental_over_full_refresh"]["value"] == pytest.approx(0.1)
    assert goals["audit_share_of_full_refresh"]["met"] is True
    assert goals["peak_rss_gib"]["value"] == pytest.approx(4.0)
    assert goals["generator_million_rows_per_s"]["met"] is True
    assert goals["incremental_growth_with_history"]["value"] is None
    assert goals["completes_within_memory_limit"]["met"] is True
    assert goals["large_over_medium_full_refresh"]["value"] is None

    paths = BenchPaths(tmp_path / "bench")
    json_path, md_path = write_results(result, paths)
    assert json.loads(json_path.read_text())["full_refresh_s"]["median"] == 100.0
    markdown = md_path.read_text()
    assert markdown == render_markdown(result)
    assert ["full refresh (2 days)", "100.0 s", "90.0 s", "120.0 s"] in _cells(markdown)
    assert ["full refresh / floor", "<= 1.5", "2.000", "**no**", "medium"] in _cells(markdown)
    assert "|:----" in markdown and "----:|" in markdown  # markdown alignment rows

    large = Size("large", days=365, sessions_per_day=200_000, default_repeat=1, history_check=True)
    large_result = _result(large, [400.0])
    large_result["goals"] = goals_of(large_result, {"medium": result})
    assert large_result["goals"]["large_over_medium_full_refresh"]["value"] == pytest.approx(4.0)
    write_results(large_result, paths)
    table = readme_section(paths.results_dir)
    assert _cells(table)[0] == ["", "medium", "large"]
    assert ["full refresh", "100.0 s", "400.0 s"] in _cells(table)
    assert ["full refresh: large / medium (<= 4.4)", "4.000", "4.000 ✓"] in _cells(table)
    # a medium run after the large one: the table pairs the files as they are now
    write_results(_result(medium, [50.0]), paths)
    table = readme_section(paths.results_dir)
    assert ["full refresh: large / medium (<= 4.4)", "8.000", "8.000 ✗"] in _cells(table)
    printed = CliRunner().invoke(bench, ["--readme", "--bench-dir", str(paths.root)])
    assert printed.exit_code == 0
    assert printed.output == table


def test_markdown_says_when_the_floor_did_not_finish():
    small = Size("small", days=30, sessions_per_day=5_000, default_repeat=1, history_check=False)
    finished = render_markdown(_result(small, [100.0]))
    assert "The floor computed the same row count as the pipeline" in finished
    failed = _result(small, [100.0]) | {
        "floor_s": None,
        "floor_rows_match": False,
        "floor_row_mismatches": {"missing_in_floor": ["kpi_daily"]},
    }
    markdown = render_markdown(failed)
    assert "The floor did not finish" in markdown
    assert "were not all the pipeline's" not in markdown


def test_bench_needs_a_size():
    result = CliRunner().invoke(bench, [])
    assert result.exit_code != 0
    assert "--size is required" in result.output


def test_bench_refuses_to_start_without_the_disk_it_needs(tmp_path, monkeypatch):
    too_little = SimpleNamespace(free=SIZES["large"].disk_bytes - 1)
    monkeypatch.setattr(cli.shutil, "disk_usage", lambda path: too_little)
    result = CliRunner().invoke(bench, ["--size", "large", "--bench-dir", str(tmp_path / "b")])
    assert result.exit_code != 0
    assert "--size large needs about" in result.output
    assert "GiB free" in result.output
    assert not (tmp_path / "b").exists(), "nothing generated or measured"


def test_landing_files_already_generated_count_as_on_the_disk(tmp_path, monkeypatch):
    paths = BenchPaths(tmp_path / "b")
    cache = paths.cache_dir("small")
    cache.mkdir(parents=True)
    (cache / "day.csv.gz").write_bytes(b"x" * 1_000_000)
    cached = dir_bytes(cache)
    assert cached == 1_000_000
    need = SIZES["small"].disk_bytes - cached

    monkeypatch.setattr(cli.shutil, "disk_usage", lambda path: SimpleNamespace(free=need))
    cli.check_free_disk(paths.data_dir, SIZES["small"], cache)  # enough with the cache counted
    monkeypatch.setattr(cli.shutil, "disk_usage", lambda path: SimpleNamespace(free=need - 1))
    with pytest.raises(click.ClickException, match="--size small needs about"):
        cli.check_free_disk(paths.data_dir, SIZES["small"], cache)


def test_dbt_node_seconds_split_the_build_by_materialization(tmp_path):
    target = tmp_path / "build"
    target.mkdir()
    nodes = {
        "model.kpi.stg_events": ("stg_events", "model", "incremental"),
        "model.kpi.kpi_daily": ("kpi_daily", "model", "table"),
        "model.kpi.kpi_traffic_daily": ("kpi_traffic_daily", "model", "table"),
        "test.kpi.unique_stg_events_event_id": ("unique_stg_events_event_id", "test", "test"),
    }
    seconds = [4.0, 3.0, 2.5, 1.0]
    manifest = {
        "nodes": {
            uid: {"name": name, "resource_type": kind, "config": {"materialized": mat}}
            for uid, (name, kind, mat) in nodes.items()
        }
    }
    results = {
        "elapsed_time": 7.0,
        "results": [
            {"unique_id": uid, "execution_time": s} for uid, s in zip(nodes, seconds, strict=True)
        ],
    }
    (target / "manifest.json").write_text(json.dumps(manifest))
    (target / "run_results.json").write_text(json.dumps(results))

    profile = dbt_node_seconds(target, since=0.0, slowest=2)
    assert profile == {
        "elapsed_s": 7.0,
        "node_s_by_kind": {"table models": 5.5, "incremental models": 4.0, "test": 1.0},
        "slowest_node_s": {"stg_events": 4.0, "kpi_daily": 3.0},
    }
    written = (target / "run_results.json").stat().st_mtime
    assert dbt_node_seconds(target, since=written + 1) is None, "left by an earlier refresh"
    assert dbt_node_seconds(tmp_path / "none", since=0.0) is None


@pytest.mark.slow
def test_the_whole_command_on_a_seven_day_shop(tmp_path, monkeypatch):
    """``kpi-bench --size small --repeat 1`` end to end, with "small" shrunk to 7 days of 400
    sessions: it generates the shop, runs the floor, the full refresh and the one-day
    incremental, finds no problem (the floor's mart rows are the pipeline's, the raw rows the
    generated ones) and writes its result document and markdown. Its times are not judged."""
    import bench as bench_package

    tiny = replace(SIZES["small"], days=7, sessions_per_day=400)
    monkeypatch.setitem(bench_package.SIZES, "small", tiny)
    root = tmp_path / "bench"
    ran = CliRunner().invoke(bench, ["--size", "small", "--repeat", "1", "--bench-dir", str(root)])
    assert ran.exit_code == 0, ran.output[-3000:]
    result = json.loads(BenchPaths(root).result_json("small").read_text())
    assert result["parameters"]["days"] == 7
    assert result["problems"] == []
    (run,) = result["runs"]
    assert run["completed"] is True
    # the floor: one DuckDB connection over the landing files, running the compiled dbt SQL,
    # gives every mart table the row count the pipeline built
    assert result["floor_rows_match"] is True
    nodes = plan(json.loads((BenchPaths(root).compile_dir / "target/manifest.json").read_text()))
    marts = {node.name for node in nodes if node.is_mart}
    assert {"kpi_daily", "dim_customers", "fct_orders"} <= marts == set(run["floor"]["mart_rows"])
    assert all(node.materialized != "ephemeral" for node in nodes)
    assert run["floor"]["mart_rows"]["kpi_daily"] > 0
    assert run["floor"]["models"] == sum(n.materialized != "seed" for n in nodes)
    assert set(run["floor"]["stage_s"]) == {"load_raw", "seeds", "models", "checkpoint"}
    assert sum(run["floor"]["raw_rows"].values()) > 0
    last_day = date.fromisoformat(result["parameters"]["start"]) + timedelta(days=6)
    assert result["incremental_day"] == last_day.isoformat()
    assert sum(result["incremental_rows"].values()) > 0
    assert set(result["stage_s"]) >= set(STAGES)
    assert BenchPaths(root).result_markdown("small").read_text() == render_markdown(result)
