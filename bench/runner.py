"""One ``kpi-bench`` invocation: generate (or reuse), measure each repeat, aggregate, write.

Each repeat uses a fresh data directory ``bench/data/<size>/run`` (the last one is kept for
inspection) whose landing zone holds hard links to the cached files:

1. days 1..N-1 are linked in; the dbt manifest is parsed (untimed: what a deployed code
   location already has); the floor runs over them, in its own process and database (deleted
   after it, so it never shares the disk with the pipeline's warehouse);
2. ``kpi refresh`` runs over the same days -- the full refresh;
3. day N is linked in and ``kpi refresh --date <day N>`` runs -- the one-day incremental.

Once per invocation (medium and large by default), the history check repeats 1 and 3 on the
first ``SHORT_HISTORY_DAYS`` days, so the one-day incremental can be compared at two lengths of
history with the same start-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import psutil

from bench import SHORT_HISTORY_DAYS, BenchPaths, Size
from bench.floor import compile_models, plan
from bench.landing import ensure_cache, landing_days, link_days
from bench.measure import (
    Measured,
    dbt_node_seconds,
    last_run_times,
    run_measured,
    slowest_first,
    stage_seconds,
)
from bench.results import (
    GIB,
    SCHEMA_VERSION,
    STAGE_ORDER,
    figure,
    goals,
    load_results,
    per_key,
    run_ratios,
)
from dagster_project.core.settings import PROJECT_ROOT, Settings
from dagster_project.ingest import contract

Echo = Callable[[str], None]
_OUT_OF_MEMORY = re.compile(r"out of memory", re.IGNORECASE)


def kpi_executable() -> Path:
    return Path(sys.executable).with_name("kpi")


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            models = [line.split(":", 1)[1].strip() for line in info if "model name" in line]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "cores_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "memory_bytes": psutil.virtual_memory().total,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": version("dagster"),
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "great_expectations": version("great-expectations"),
    }


def git_state() -> dict:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(PROJECT_ROOT), *args],
                capture_output=True,
                text=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    changes = git("status", "--porcelain")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": None if changes is None else bool(changes),
        "changed_files": None if changes is None else len(changes.splitlines()),
    }


def child_env(data_dir: Path) -> dict[str, str]:
    """The environment of a pipeline process over ``data_dir``: the bench's own settings
    (KPI_DUCKDB_MEMORY_LIMIT, ...) with its data directory and the Dagster home under it."""
    env = dict(os.environ)
    env["KPI_DATA_DIR"] = str(data_dir)
    env.pop("DAGSTER_HOME", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def supports_date(kpi: Path) -> bool:
    """Whether ``kpi refresh`` takes ``--date`` (a one-day incremental refresh)."""
    done = subprocess.run(
        [str(kpi), "refresh", "--help"], capture_output=True, text=True, check=False
    )
    return "--date" in done.stdout


def prepare(data_dir: Path) -> float:
    """Parse the dbt project into the data directory, as a deployed code location has it
    before any refresh (dagster-dbt's preparation); returns the seconds it took (not measured).
    Raises ``subprocess.CalledProcessError`` when the parse fails."""
    began = datetime.now(UTC)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from dagster_project.transform.project import dbt_project; "
            "dbt_project().prepare_if_dev()",
        ],
        env=child_env(data_dir),
        cwd=data_dir,
        check=True,
        capture_output=True,
    )
    return (datetime.now(UTC) - began).total_seconds()


def count_rows(database: Path, relations: list[str]) -> dict[str, int | None]:
    """Rows of each relation (None when it does not exist)."""
    counts: dict[str, int | None] = dict.fromkeys(relations)
    if not database.exists():
        return counts
    with duckdb.connect(str(database), read_only=True) as con:
        for relation in relations:
            with contextlib.suppress(duckdb.CatalogException):
                counts[relation] = con.execute(f"select count(*) from {relation}").fetchone()[0]
    return counts


def compare_rows(
    pipeline: Mapping[str, int | None], floor: Mapping[str, int | None]
) -> dict[str, object]:
    """How the floor's row counts differ from the pipeline's ({} when they do not): tables
    missing on either side, and tables with different counts."""
    names = sorted(set(pipeline) | set(floor))
    missing_in_pipeline = [n for n in names if pipeline.get(n) is None]
    missing_in_floor = [n for n in names if floor.get(n) is None]
    differ = {
        n: {"pipeline": pipeline[n], "floor": floor[n]}
        for n in names
        if pipeline.get(n) is not None and floor.get(n) is not None and pipeline[n] != floor[n]
    }
    found = {
        "missing_in_pipeline": missing_in_pipeline,
        "missing_in_floor": missing_in_floor,
        "differ": differ,
    }
    return {k: v for k, v in found.items() if v}


def describe_mismatches(mismatches: Mapping[str, object]) -> str:
    parts = []
    if missing := mismatches.get("missing_in_pipeline"):
        parts.append(f"{len(missing)} mart table(s) missing from the pipeline's build")
    if missing := mismatches.get("missing_in_floor"):
        parts.append(f"{len(missing)} missing from the floor ({', '.join(missing)})")
    if differ := mismatches.get("differ"):
        parts.append(
            "different row counts: "
            + ", ".join(f"{n} {d['pipeline']:,} vs {d['floor']:,}" for n, d in differ.items())
        )
    return "the floor and the pipeline disagree on the marts: " + "; ".join(parts)


def _shown(path: Path) -> str:
    """A path as the results show it: relative to the project when it is inside it."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _tail(log: Path, lines: int = 6, width: int = 300) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(
        line if len(line) <= width else line[:width] + " ..." for line in kept[-lines:]
    )


def _out_of_memory(log: Path) -> bool:
    try:
        with log.open(encoding="utf-8", errors="replace") as handle:
            return any(_OUT_OF_MEMORY.search(line) for line in handle)
    except OSError:
        return False


class Bench:
    """The state of one invocation."""

    def __init__(
        self,
        size: Size,
        repeat: int,
        paths: BenchPaths,
        history_check: bool,
        regenerate: bool,
        echo: Echo,
    ):
        self.size = size
        self.repeat = repeat
        self.paths = paths
        self.history_check = history_check
        self.regenerate = regenerate
        self.echo = echo
        self.settings = Settings.from_env()
        self.kpi = kpi_executable()
        self.problems: list[str] = []
        self.date_supported = False
        self.generated_rows: dict[str, int] = {}
        self.raw_relations = [f"raw.{name}" for name in contract.tables()]

    # ------------------------------------------------------------------------- one refresh

    def refresh(self, data_dir: Path, label: str, day: date | None = None) -> dict:
        """Run ``kpi refresh`` (over one day with ``day``) and read its stages."""
        # the whole log, dbt's lines included: what an out-of-memory error or a slow node says
        command = [str(self.kpi), "refresh", "--verbose"]
        if day is not None:
            command += ["--date", day.isoformat()]
        measured: Measured = run_measured(
            command,
            child_env(data_dir),
            data_dir / "logs" / f"{label}.log",
            cwd=data_dir,
            spill_dirs=[data_dir / "warehouse" / "tmp"],
        )
        times = last_run_times(data_dir / "dagster", since=measured.started_at)
        oom = _out_of_memory(measured.log)
        record = {
            "command": " ".join(["kpi", *command[1:]]),
            "exit_code": measured.exit_code,
            "wall_s": measured.wall_s,
            "peak_rss_bytes": measured.peak_rss_bytes,
            "peak_spill_bytes": measured.peak_spill_bytes,
            "out_of_memory": oom,
            "load_average_1min": [measured.load_before, measured.load_after],
            "run_id": times and times.run_id,
            "run_status": times and times.status,
            "run_s": times and times.duration_s,
            "stage_s": stage_seconds(times, measured.wall_s),
            "steps": [asdict(s) for s in times.steps] if times else [],
            "dbt": dbt_node_seconds(
                self.settings_for(data_dir).dbt_build_target_dir, since=measured.started_at
            ),
            "log": _shown(measured.log),
        }
        self.echo(
            f"  {label}: {measured.wall_s:,.1f} s, exit {measured.exit_code}, peak RSS "
            f"{measured.peak_rss_bytes / GIB:,.2f} GiB"
            + (
                f", spilled {measured.peak_spill_bytes / GIB:,.2f} GiB"
                if measured.peak_spill_bytes
                else ""
            )
        )
        if measured.exit_code != 0 or oom:
            self.problems.append(
                f"{label} ({record['command']}) exited {measured.exit_code}"
                + (" with an out-of-memory error" if oom else "")
                + f"; log {_shown(measured.log)}:\n{_tail(measured.log)}"
            )
        return record

    def floor(self, data_dir: Path, manifest: Path) -> dict:
        floor_dir = data_dir / "floor"
        out = data_dir / "floor.json"
        measured = run_measured(
            [
                sys.executable,
                "-m",
                "bench.floor",
                "--landing",
                str(data_dir / "landing"),
                "--manifest",
                str(manifest),
                "--out",
                str(out),
            ],
            child_env(floor_dir),
            data_dir / "logs" / "floor.log",
            cwd=data_dir,
            spill_dirs=[floor_dir / "warehouse" / "tmp"],
        )
        shutil.rmtree(floor_dir, ignore_errors=True)  # its database: as large as the build's
        if measured.exit_code != 0:
            self.problems.append(f"the floor exited {measured.exit_code}:\n{_tail(measured.log)}")
            return {"exit_code": measured.exit_code, "peak_rss_bytes": measured.peak_rss_bytes}
        result = json.loads(out.read_text(encoding="utf-8"))
        self.echo(
            f"  floor: {result['floor_s']:,.1f} s (process {measured.wall_s:,.1f} s), peak RSS "
            f"{measured.peak_rss_bytes / GIB:,.2f} GiB"
        )
        return result | {
            "exit_code": 0,
            "process_s": measured.wall_s,
            "peak_rss_bytes": measured.peak_rss_bytes,
            "peak_spill_bytes": measured.peak_spill_bytes,
            "load_average_1min": [measured.load_before, measured.load_after],
        }

    # ------------------------------------------------------------------------- one repeat

    def fresh_data_dir(self, name: str) -> Path:
        data_dir = self.paths.run_dir(self.size.name, name)
        if data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True)
        return data_dir

    def measure_once(
        self,
        index: int,
        cache_landing: Path,
        days: list[date],
        manifest: Path | None,
        marts: Mapping[str, str],
    ) -> dict:
        history, last = days[:-1], days[-1]
        data_dir = self.fresh_data_dir("run")
        landing = data_dir / "landing"
        linked, copied = link_days(cache_landing, landing, history)
        prepare_s = self.prepare(data_dir)
        self.echo(
            f"[run {index}/{self.repeat}] {len(history)} days ({linked + copied} files"
            + (f", {copied} copied" if copied else "")
            + (
                f"); dbt manifest parsed in {prepare_s:.1f} s (not measured)"
                if prepare_s is not None
                else "); parsing the dbt project failed"
            )
        )
        record: dict = {"index": index, "prepare_s": prepare_s, "files_copied": copied}
        # the floor first, its database deleted before the full refresh writes the warehouse
        # the incremental needs: side by side they needed more disk than a large run had
        floor = self.floor(data_dir, manifest) if manifest else {"exit_code": None}
        record["full_refresh"] = self.refresh(data_dir, "full_refresh")
        record["raw_rows_full_refresh"] = count_rows(
            self.settings_for(data_dir).build_db, self.raw_relations
        )
        pipeline_marts = count_rows(self.settings_for(data_dir).build_db, list(marts.values()))

        record["floor"] = {k: v for k, v in floor.items() if k != "model_s"}
        record["floor"]["slowest_models_s"] = slowest_first(floor.get("model_s") or {}, most=10)
        record["floor"]["mart_rows"] = floor.get("mart_rows")
        mismatches = compare_rows(
            {name: pipeline_marts[relation] for name, relation in marts.items()},
            floor.get("mart_rows") or {},
        )
        record["floor_row_mismatches"] = mismatches
        if mismatches and floor["exit_code"] == 0:
            self.problems.append(f"run {index}: {describe_mismatches(mismatches)}")

        if self.date_supported:
            link_days(cache_landing, landing, [last])
            record["incremental"] = self.refresh(data_dir, "incremental", day=last)
            after = count_rows(self.settings_for(data_dir).build_db, self.raw_relations)
            record["incremental_rows"] = {
                r.split(".", 1)[1]: (after[r] or 0) - (record["raw_rows_full_refresh"][r] or 0)
                for r in self.raw_relations
            }
            loaded = {r.split(".", 1)[1]: after[r] or 0 for r in self.raw_relations}
            if self.generated_rows and loaded != self.generated_rows:
                differ = {
                    t: {"generated": n, "loaded": loaded.get(t)}
                    for t, n in self.generated_rows.items()
                    if loaded.get(t) != n
                }
                self.problems.append(
                    f"run {index}: after the incremental, raw rows differ from the generated "
                    f"rows: {differ}"
                )
        record["completed"] = all(
            part["exit_code"] == 0 and not part["out_of_memory"]
            for part in (record["full_refresh"], record.get("incremental"))
            if part is not None
        )
        return record

    def measure_history(self, cache_landing: Path, days: list[date]) -> dict:
        """The one-day incremental on top of a short history (see the module's docstring)."""
        short = days[:SHORT_HISTORY_DAYS]
        day = days[SHORT_HISTORY_DAYS]
        data_dir = self.fresh_data_dir("history")
        link_days(cache_landing, data_dir / "landing", short)
        self.prepare(data_dir)
        self.echo(f"[history check] {len(short)} days, then {day}")
        full = self.refresh(data_dir, "history_full_refresh")
        before = count_rows(self.settings_for(data_dir).build_db, self.raw_relations)
        link_days(cache_landing, data_dir / "landing", [day])
        incremental = self.refresh(data_dir, "history_incremental", day=day)
        after = count_rows(self.settings_for(data_dir).build_db, self.raw_relations)
        return {
            "history_days": len(short),
            "incremental_day": day.isoformat(),
            "full_refresh_s": full["wall_s"],
            "incremental_s": incremental["wall_s"],
            "incremental_stage_s": incremental["stage_s"],
            "incremental_rows": {
                r.split(".", 1)[1]: (after[r] or 0) - (before[r] or 0) for r in self.raw_relations
            },
            "full_refresh": full,
            "incremental": incremental,
        }

    def prepare(self, data_dir: Path) -> float | None:
        try:
            return prepare(data_dir)
        except subprocess.CalledProcessError as error:
            output = (error.stdout or b"").decode(errors="replace")
            output += (error.stderr or b"").decode(errors="replace")
            self.problems.append(f"parsing the dbt project failed:\n{output[-2000:]}")
            return None

    def settings_for(self, data_dir: Path) -> Settings:
        """The settings a pipeline process over ``data_dir`` sees."""
        return replace(self.settings, data_dir=data_dir.resolve())

    # ------------------------------------------------------------------------- the whole

    def run(self) -> dict:
        timestamp = datetime.now(UTC).isoformat(timespec="seconds")
        cache = self.paths.cache_dir(self.size.name)
        marker = ensure_cache(
            cache, self.size, self.settings.timezone, regenerate=self.regenerate, echo=self.echo
        )
        cache_landing = cache / "landing"
        days = landing_days(cache_landing)
        self.generated_rows = dict(marker["rows"])
        self.date_supported = supports_date(self.kpi)
        if not self.date_supported:
            self.problems.append(
                "`kpi refresh --date` is not available yet: the one-day incremental was not "
                "measured (everything else was)"
            )
            self.echo(f"warning: {self.problems[-1]}")

        self.echo("compiling the dbt models for the floor (not measured) ...")
        manifest: Path | None = None
        marts: dict[str, str] = {}
        try:
            manifest = compile_models(self.paths.compile_dir, child_env(self.paths.compile_dir))
            nodes = plan(json.loads(manifest.read_text(encoding="utf-8")))
            marts = {node.name: node.relation for node in nodes if node.is_mart}
        except (RuntimeError, ValueError, KeyError) as error:
            self.problems.append(f"the floor cannot run: {error}")
            self.echo(f"warning: {self.problems[-1]}")
            manifest = None

        records = [
            self.measure_once(i, cache_landing, days, manifest, marts)
            for i in range(1, self.repeat + 1)
        ]
        history = None
        if self.history_check and self.date_supported and len(days) > SHORT_HISTORY_DAYS + 1:
            history = self.measure_history(cache_landing, days)
        elif self.history_check:
            self.echo(
                f"history check skipped: needs `--date` and more than {SHORT_HISTORY_DAYS + 1} days"
            )
        return self.aggregate(timestamp, marker, days, records, history)

    def aggregate(
        self,
        timestamp: str,
        marker: Mapping,
        days: list[date],
        records: list[dict],
        history: dict | None,
    ) -> dict:
        return aggregate(
            size=self.size,
            repeat=self.repeat,
            timestamp=timestamp,
            marker=marker,
            days=days,
            records=records,
            history=history,
            settings=self.settings,
            problems=self.problems,
            other_results={
                k: v for k, v in load_results(self.paths.results_dir).items() if k != self.size.name
            },
        )


def aggregate(
    *,
    size: Size,
    repeat: int,
    timestamp: str,
    marker: Mapping,
    days: list[date],
    records: list[dict],
    history: dict | None,
    settings: Settings,
    problems: list[str],
    other_results: Mapping[str, Mapping],
) -> dict:
    """The result document of one invocation, from its per-run records."""
    full = [r["full_refresh"] for r in records]
    incremental = [r.get("incremental") for r in records]
    floor = [r.get("floor") or {} for r in records]
    mismatches = next((r["floor_row_mismatches"] for r in records if r["floor_row_mismatches"]), {})
    result = {
        "schema_version": SCHEMA_VERSION,
        "size": size.name,
        "parameters": dict(marker["parameters"]),
        "repeat": repeat,
        "timestamp": timestamp,
        # the machine's 1-minute load average at the start and end of every measured command:
        # well above the bench's own (about 2 on 2 cores) means the machine was shared
        "load_average_1min": figure(
            load
            for r in records
            for part in (r["full_refresh"], r.get("incremental"), r.get("floor"))
            for load in (part or {}).get("load_average_1min", [])
        ),
        "git": git_state(),
        "machine": machine(),
        "settings": {
            "duckdb_memory_limit": settings.duckdb_memory_limit,
            "duckdb_threads": settings.duckdb_threads,
            "timezone": settings.timezone,
        },
        "rows": dict(marker["rows"]),
        "rows_total": marker["total_rows"],
        "history_days": len(days) - 1,
        "incremental_day": days[-1].isoformat(),
        "incremental_rows": next(
            (r["incremental_rows"] for r in records if "incremental_rows" in r), None
        ),
        "generator_rows_per_s": marker["rows_per_second"],
        "generator": {k: v for k, v in marker.items() if k not in ("rows", "parameters")},
        "full_refresh_s": figure(f["wall_s"] for f in full),
        "stage_s": per_key([f["stage_s"] for f in full], STAGE_ORDER),
        "incremental_s": figure(i and i["wall_s"] for i in incremental),
        "incremental_stage_s": per_key([i and i["stage_s"] for i in incremental], STAGE_ORDER),
        "floor_s": figure(f.get("floor_s") for f in floor),
        "floor_stage_s": per_key(
            [f.get("stage_s") for f in floor], ("load_raw", "seeds", "models", "checkpoint")
        ),
        "peak_rss_bytes": figure(
            max(f["peak_rss_bytes"], (i or {}).get("peak_rss_bytes", 0))
            for f, i in zip(full, incremental, strict=True)
        ),
        "peak_rss_full_refresh_bytes": figure(f["peak_rss_bytes"] for f in full),
        "peak_rss_incremental_bytes": figure(i and i["peak_rss_bytes"] for i in incremental),
        "floor_peak_rss_bytes": figure(f.get("peak_rss_bytes") for f in floor),
        "peak_spill_bytes": figure(
            max(f["peak_spill_bytes"], (i or {}).get("peak_spill_bytes", 0))
            for f, i in zip(full, incremental, strict=True)
        ),
        "ratios": run_ratios(records),
        "floor_rows_match": all(
            not r["floor_row_mismatches"] and (r.get("floor") or {}).get("exit_code") == 0
            for r in records
        ),
        "floor_row_mismatches": mismatches,
        "history_check": None
        if history is None
        else {k: v for k, v in history.items() if k not in ("full_refresh", "incremental")},
        "problems": list(problems),
        "runs": records,
    }
    if history is not None:
        result["history_check_runs"] = {
            "full_refresh": history["full_refresh"],
            "incremental": history["incremental"],
        }
    result["goals"] = goals(result, other_results)
    return result
