"""Measuring a command: wall time, peak memory of its process tree, and where a run spent it.

A refresh runs as a subprocess (``kpi refresh``, which starts dbt as its own child), so its
memory is the resident set of the whole tree, sampled every ``SAMPLE_EVERY_S``. Per-stage times
come from the run's step statistics in the Dagster instance of the run's data directory, each
step classified by ``classify_step``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_EVERY_S = 0.2
STAGES = ("ingest", "transform", "audit", "publish", "report")


@dataclass(frozen=True)
class Measured:
    """One command's run: exit code, wall time (s), peak RSS summed over its process tree
    (bytes), peak bytes in its DuckDB spill directories, and when it started and ended (epoch
    seconds, to line up with Dagster's timestamps)."""

    command: list[str]
    exit_code: int
    wall_s: float
    peak_rss_bytes: int
    peak_spill_bytes: int
    started_at: float
    ended_at: float
    log: Path
    load_before: float  # the machine's 1-minute load average when it started and ended:
    load_after: float  # anything above the bench's own ~2 means the machine was shared


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants (shared pages count once per
    process, as RSS does)."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for member in members:
        with contextlib.suppress(psutil.Error):  # ended between listing and reading
            total += member.memory_info().rss
    return total


def dir_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 when it does not exist)."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):  # removed while walking
                total += os.stat(os.path.join(root, name)).st_size
    return total


def run_measured(
    command: Sequence[str],
    env: Mapping[str, str],
    log: Path,
    cwd: Path,
    spill_dirs: Sequence[Path] = (),
) -> Measured:
    """Run ``command`` to its end with its output in ``log``, sampling its tree's memory."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_rss = peak_spill = 0
    load_before = os.getloadavg()[0]
    with log.open("wb") as output:
        started_at = time.time()
        began = time.perf_counter()
        process = psutil.Popen(
            list(command), env=dict(env), cwd=cwd, stdout=output, stderr=subprocess.STDOUT
        )
        while True:
            peak_rss = max(peak_rss, tree_rss(process))
            if spill_dirs:
                peak_spill = max(peak_spill, sum(dir_bytes(d) for d in spill_dirs))
            try:
                exit_code = process.wait(timeout=SAMPLE_EVERY_S)
                break
            except (subprocess.TimeoutExpired, psutil.TimeoutExpired):
                continue
        wall_s = time.perf_counter() - began
    return Measured(
        list(command),
        exit_code,
        wall_s,
        peak_rss,
        peak_spill,
        started_at,
        time.time(),
        log,
        load_before,
        os.getloadavg()[0],
    )


def classify_step(step_key: str) -> str:
    """The stage of a step of the refresh job: one of ``STAGES``, or ``other``.

    Matched on prefixes, so a step split into several (``dbt_models``, ``dbt_daily_facts``...)
    stays in its stage: ``raw__<table>`` loads a table (ingest), ``raw__<table>_contract`` and
    ``audit*`` check (audit), ``dbt*`` builds and tests the models (transform),
    ``published__*`` publishes, ``reports__*`` renders the report.
    """
    key = step_key.lower()
    if key.startswith("raw__"):
        return "audit" if key.endswith("_contract") else "ingest"
    for prefix, stage in (
        ("audit", "audit"),
        ("dbt", "transform"),
        ("publish", "publish"),
        ("report", "report"),
    ):
        if key.startswith(prefix):
            return stage
    return "other"


@dataclass(frozen=True)
class StepTime:
    key: str
    stage: str
    status: str
    seconds: float | None  # None: the step did not run (skipped)


@dataclass(frozen=True)
class RunTimes:
    """A Dagster run's duration and its steps' wall times."""

    run_id: str
    status: str
    started_at: float | None
    ended_at: float | None
    steps: list[StepTime] = field(default_factory=list)

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


def run_times(instance, run_id: str) -> RunTimes:
    """The duration and step times of run ``run_id`` of a Dagster ``instance``."""
    import dagster as dg

    (record,) = instance.get_run_records(filters=dg.RunsFilter(run_ids=[run_id]))
    steps = []
    for stat in instance.get_run_step_stats(run_id):
        seconds = (
            stat.end_time - stat.start_time
            if stat.start_time is not None and stat.end_time is not None
            else None
        )
        status = stat.status.value if stat.status is not None else "UNKNOWN"
        steps.append(StepTime(stat.step_key, classify_step(stat.step_key), status, seconds))
    return RunTimes(
        run_id,
        record.dagster_run.status.value,
        record.start_time,
        record.end_time,
        steps,
    )


@contextmanager
def dagster_instance(home: Path) -> Iterator:
    """The Dagster instance whose run history lives in ``home`` (a run's ``$KPI_DATA_DIR/
    dagster``), opened the way ``kpi status`` opens it: through ``DAGSTER_HOME``."""
    import dagster as dg

    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


def last_run_times(home: Path, since: float | None = None) -> RunTimes | None:
    """The newest run in the instance at ``home``, or None when it has none (or none created
    after ``since``, epoch seconds: a command that failed before starting its run)."""
    if not home.is_dir():
        return None
    with dagster_instance(home) as instance:
        records = instance.get_run_records(limit=1)
        if not records:
            return None
        if since is not None and records[0].create_timestamp.timestamp() < since - 1.0:
            return None
        return run_times(instance, records[0].dagster_run.run_id)


def stage_seconds(times: RunTimes | None, wall_s: float) -> dict[str, float]:
    """Seconds per stage of a run that took ``wall_s`` as a process.

    ``startup`` is the process's wall time minus the run's duration (interpreter start,
    imports, loading the definitions, and what the CLI does after the run); ``orchestration``
    is the run's duration minus its steps' (Dagster's own work between steps); ``other`` holds
    steps no stage claims. The values add up to ``wall_s``.
    """
    seconds = dict.fromkeys((*STAGES, "other"), 0.0)
    if times is None or times.duration_s is None:
        return seconds | {"orchestration": 0.0, "startup": wall_s}
    for step in times.steps:
        if step.seconds is not None:
            seconds[step.stage] += step.seconds
    in_steps = sum(seconds.values())
    seconds["orchestration"] = times.duration_s - in_steps
    seconds["startup"] = wall_s - times.duration_s
    return seconds


def dbt_node_seconds(target: Path, since: float, slowest: int = 10) -> dict | None:
    """Where a refresh's ``dbt build`` spent its time, from the run_results.json and
    manifest.json it wrote into ``target``; None when it wrote none after ``since`` (epoch
    seconds: a refresh that failed before dbt).

    Node seconds are summed per kind (models per materialization, tests, seeds), so the
    incremental's cost splits into what is rebuilt whole and what is not. They add up over
    dbt's threads: their total exceeds ``elapsed_s``.
    """
    results_file = target / "run_results.json"
    if not results_file.is_file() or results_file.stat().st_mtime < since:
        return None
    results = json.loads(results_file.read_text(encoding="utf-8"))
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    by_kind: dict[str, float] = {}
    by_node: dict[str, float] = {}
    for result in results["results"]:
        node = nodes[result["unique_id"]]
        kind = node["resource_type"]
        if kind == "model":
            kind = f"{node['config']['materialized']} models"
        by_kind[kind] = by_kind.get(kind, 0.0) + result["execution_time"]
        by_node[node["name"]] = result["execution_time"]
    return {
        "elapsed_s": results["elapsed_time"],
        "node_s_by_kind": slowest_first(by_kind),
        "slowest_node_s": slowest_first(by_node, most=slowest),
    }


def slowest_first(seconds: Mapping[str, float], most: int | None = None) -> dict[str, float]:
    """``seconds`` (name -> seconds) slowest first; only the ``most`` slowest when given."""
    return dict(sorted(seconds.items(), key=lambda kv: -kv[1])[:most])
