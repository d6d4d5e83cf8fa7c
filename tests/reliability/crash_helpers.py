"""Machinery shared by ``test_crash_safety.py`` and ``test_readers_and_idempotency.py``
(issue 8, sections 2-4).

- ``Zygote``: a Python process that has imported the pipeline once and forks one ``kpi``
  command at a time. The child runs exactly what the ``kpi`` console script runs
  (``dagster_project.cli:main``) in a new session, so ``os.killpg`` kills it together with its
  dbt subprocesses; only the interpreter start and imports (~10 s per process here) are
  shared. A child can also run ``publish()`` alone, killed at a chosen executed line.
- ``shared_history``: the small shop both modules build on, refreshed once per session.
- ``inspect_publication`` / ``inspect_build``: content hashes, completeness and leftovers.
- ``python -m tests.reliability.crash_helpers zygote|reader``: the two helper processes.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from tests.deliveries import redeliver_orders
from tests.publish.reader import OPEN_RACE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KPI = Path(sys.executable).with_name("kpi")

# The shop: `kpi-demo --days 7 --sessions-per-day 100 --seed 11`.
START = date(2025, 6, 1)
DAYS = 7
SESSIONS_PER_DAY = 100
SEED = 11
HISTORY_DAYS = (date(2025, 6, 1), date(2025, 6, 6))  # the first publication (run A)
NEW_DAY = date(2025, 6, 7)  # delivered later: run B, the crash trials and their recovery
REDELIVERED_DAY = date(2025, 6, 6)  # its orders file is re-delivered, changed (run D)

PUBLISHED_FILE = "kpi_mart.duckdb"
PARQUET_DIR = "parquet"
LOG_TABLE = "publication_log"
RUN_TIMEOUT_S = 900
READERS = 4
# Between a reader's queries. A query costs about 36 ms of CPU on this mart: at 0.25 s the four
# readers took half a core for the two minutes of runs B-D; at 0.5 s each still asks ~200 times.
READER_PAUSE_S = 0.5


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------------------------
# Content hashes and completeness


def _hash_sql(relation: str) -> str:
    """Rows and an md5 over the rows rendered as text in a canonical (sorted) order."""
    return (
        "select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
        f"from (select cast(t as varchar) as r from {relation} t)"
    )


def _connect(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=read_only, config={"threads": 1})
    con.execute("set TimeZone = 'UTC'")
    return con


@dataclass
class Publication:
    """What ``published/`` holds: the DuckDB mart and the Parquet directory, each with the
    run id its own publication_log names and a (rows, md5) per published table."""

    run_id: str | None = None
    hashes: dict[str, tuple[int, str]] = field(default_factory=dict)
    parquet_run_id: str | None = None
    parquet_hashes: dict[str, tuple[int, str]] = field(default_factory=dict)
    checks_passed: int | None = None
    log_run_ids: list[str] = field(default_factory=list)  # every run in its publication_log
    problems: list[str] = field(default_factory=list)  # incomplete or unreadable
    hidden: list[str] = field(default_factory=list)  # other entries of published/ (leftovers)

    @property
    def content(self) -> tuple:
        return (self.hashes, self.parquet_hashes)


def _newest_log_entry(con: duckdb.DuckDBPyConnection, relation: str) -> tuple | None:
    rows = con.execute(
        f"select run_id, rows_per_table, checks_passed from {relation}"
        " order by finished_at desc limit 1"
    ).fetchall()
    return rows[0] if rows else None


def _complete(where: str, counted: dict[str, int], logged: dict | None) -> list[str]:
    """The log's rows_per_table must name exactly the tables present, with their row counts."""
    if logged is None:
        return [f"{where}: publication_log is empty"]
    logged = dict(logged)
    if set(logged) != set(counted):
        return [f"{where}: tables {sorted(counted)} but the log lists {sorted(logged)}"]
    return [
        f"{where}: {table} has {counted[table]} rows, its log says {logged[table]}"
        for table in sorted(counted)
        if counted[table] != logged[table]
    ]


def inspect_publication(published_dir: Path) -> Publication:
    publication = Publication()
    if published_dir.is_dir():
        publication.hidden = sorted(
            p.name for p in published_dir.iterdir() if p.name not in (PUBLISHED_FILE, PARQUET_DIR)
        )
    mart = published_dir / PUBLISHED_FILE
    if not mart.is_file():
        publication.problems.append(f"{mart.name} is missing")
    else:
        try:
            con = _connect(mart)
            try:
                tables = [name for (name,) in con.execute("show tables").fetchall()]
                entry = _newest_log_entry(con, LOG_TABLE)
                publication.log_run_ids = [
                    r for (r,) in con.execute(f"select run_id from {LOG_TABLE}").fetchall()
                ]
                for table in tables:
                    if table != LOG_TABLE:
                        publication.hashes[table] = tuple(
                            con.execute(_hash_sql(f'"{table}"')).fetchall()[0]
                        )
            finally:
                con.close()
            counted = {t: n for t, (n, _) in publication.hashes.items()}
            publication.problems += _complete(mart.name, counted, entry and entry[1])
            if entry:
                publication.run_id, publication.checks_passed = entry[0], entry[2]
        except duckdb.Error as error:
            publication.problems.append(f"{mart.name} does not open read-only: {error}")
    parquet = published_dir / PARQUET_DIR
    if not parquet.is_dir():
        publication.problems.append(f"{PARQUET_DIR}/ is missing")
        return publication
    con = _connect(Path(":memory:"), read_only=False)
    try:
        files = sorted(parquet.glob("*.parquet"))
        log_file = parquet / f"{LOG_TABLE}.parquet"
        entry = _newest_log_entry(con, f"read_parquet('{log_file}')") if log_file in files else None
        for path in files:
            if path != log_file:
                publication.parquet_hashes[path.stem] = tuple(
                    con.execute(_hash_sql(f"read_parquet('{path}')")).fetchall()[0]
                )
    except duckdb.Error as error:
        publication.problems.append(f"{PARQUET_DIR}/ does not read: {error}")
        return publication
    finally:
        con.close()
    counted = {t: n for t, (n, _) in publication.parquet_hashes.items()}
    publication.problems += _complete(f"{PARQUET_DIR}/", counted, entry and entry[1])
    publication.parquet_run_id = entry and entry[0]
    return publication


@dataclass
class Build:
    """The build warehouse: per raw table (rows, distinct (key, file), rows the manifest says
    were loaded, md5 without load times); per fact (rows, md5 without build metadata)."""

    raw: dict[str, tuple[int, int, int, str]]
    facts: dict[str, tuple[int, str]]
    unbalanced_files: int

    def duplicate_problems(self) -> list[str]:
        return [
            f"raw.{table}: {rows} rows, {distinct} distinct (key, file), manifest says {loaded}"
            for table, (rows, distinct, loaded, _) in sorted(self.raw.items())
            if not rows == distinct == loaded
        ] + (
            [f"{self.unbalanced_files} manifest rows read != loaded + rejected"]
            * bool(self.unbalanced_files)
        )


RAW_VOLATILE = ("_loaded_at",)
FACT_VOLATILE = ("_loaded_at", "_dbt_invocation_id")


def _without(con: duckdb.DuckDBPyConnection, schema: str, table: str, volatile) -> str:
    columns = {
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns"
            " where table_schema = $s and table_name = $t",
            {"s": schema, "t": table},
        ).fetchall()
    }
    drop = [c for c in volatile if c in columns]
    star = f"* exclude ({', '.join(drop)})" if drop else "*"
    return f'(select {star} from {schema}."{table}")'


def inspect_build(build_db: Path) -> Build:
    from dagster_project.ingest import contract
    from tests.ingest.helpers import raw_row_counts

    con = _connect(build_db)
    try:
        raw = {}
        for table in contract.tables().values():
            rows, distinct, loaded = raw_row_counts(con, table)
            digest = con.execute(
                _hash_sql(_without(con, "raw", table.name, RAW_VOLATILE))
            ).fetchall()[0][1]
            raw[table.name] = (rows, distinct, loaded, digest)
        facts = {
            name: tuple(
                con.execute(_hash_sql(_without(con, "marts", name, FACT_VOLATILE))).fetchall()[0]
            )
            for (name,) in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'marts' and table_name like 'fct\\_%' escape '\\'"
                " order by 1"
            ).fetchall()
        }
        unbalanced = con.execute(
            "select count(*) from raw._load_manifest where rows_read <> rows_loaded + rows_rejected"
        ).fetchall()[0][0]
    finally:
        con.close()
    return Build(raw, facts, unbalanced)


def float_only_difference(file_a: Path, file_b: Path, table: str) -> bool:
    """Whether two versions of a published table differ only in the last digits of doubles."""
    con = _connect(file_a)
    try:
        con.execute(f"attach '{file_b}' as other (read_only)")
        columns = con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_catalog = current_database() and table_name = $t"
            " order by ordinal_position",
            {"t": table},
        ).fetchall()
        rounded = ", ".join(
            f'round("{c}", 8)' if kind in ("DOUBLE", "FLOAT") else f'"{c}"' for c, kind in columns
        )
        differences = con.execute(
            f'select count(*) from ((select {rounded} from "{table}" except all'
            f' select {rounded} from other."{table}") union all'
            f' (select {rounded} from other."{table}" except all select {rounded} from "{table}"))'
        ).fetchall()[0][0]
    finally:
        con.close()
    return differences == 0


def leftover_files(data_dir: Path) -> list[str]:
    """Temporary files of a publication or of DuckDB left in published/ or warehouse/."""
    found = [f"published/{name}" for name in inspect_publication(data_dir / "published").hidden]
    warehouse = data_dir / "warehouse"
    if warehouse.is_dir():
        found += [
            str(p.relative_to(data_dir))
            for p in warehouse.rglob("*")
            if ".tmp" in p.name or (p.parent.name == "tmp" and p.is_file())
        ]
    return found


# --------------------------------------------------------------------------------------------
# Dagster's run history: which step a run is in


class Events:
    """Reads the events runs log in ``$KPI_DATA_DIR/dagster/history/event_log.db``."""

    STEPS = ("PIPELINE_START", "STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "PIPELINE_SUCCESS")

    def __init__(self, data_dir: Path):
        self.path = data_dir / "dagster" / "history" / "event_log.db"

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if not self.path.exists():
            return []
        con = sqlite3.connect(self.path, timeout=30)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def last_id(self) -> int:
        return self._query("select coalesce(max(id), 0) from event_logs")[0][0]

    def since(
        self, after_id: int, every: bool = False
    ) -> list[tuple[int, str, str | None, str | None, datetime]]:
        """(id, run id, event type, step key, time) of the step events after ``after_id``
        (``every``: of every event and log line)."""
        marks = ",".join("?" * len(self.STEPS))
        where = "" if every else f" and dagster_event_type in ({marks})"
        rows = self._query(
            "select id, run_id, dagster_event_type, step_key, timestamp from event_logs"
            f" where id > ?{where} order by id",
            (after_id,) if every else (after_id, *self.STEPS),
        )
        return [(i, r, t, s, datetime.fromisoformat(ts)) for i, r, t, s, ts in rows]


def stage_of(step_key: str) -> str:
    """Issue 8's stages: ingest, audit (raw contracts, audit_raw, audit), dbt, publish."""
    if step_key == "dbt_models":
        return "dbt"
    if step_key in ("audit_raw", "audit") or step_key.endswith("_contract"):
        return "audit"
    if step_key.startswith("raw__"):
        return "ingest"
    if step_key == "published__kpi_mart":
        return "publish"
    return "report"


# Where a kill is aimed: the steps of each window, in the order a refresh runs them.
TARGETS = {
    "ingest": lambda s: stage_of(s) == "ingest",
    "audit_pre": lambda s: s == "audit_raw" or s.endswith("_contract"),
    "dbt": lambda s: s == "dbt_models",
    "audit_post": lambda s: s == "audit",
    "publish": lambda s: s == "published__kpi_mart",
}


def stage_clock(events: list[tuple], target: str) -> list[datetime]:
    """The times of a run's events from the target window's first STEP_START (index 0) up to
    the STEP_START of the first step outside the window (the last entry): the window's clock.
    """
    first = next(i for i, e in enumerate(events) if e[2] == "STEP_START" and TARGETS[target](e[3]))
    clock = [events[first][4]]
    for event in events[first + 1 :]:
        clock.append(event[4])
        if event[2] == "STEP_START" and not TARGETS[target](event[3]):
            break
    return clock


def kill_point(clock: list[datetime], rng) -> tuple[int, float]:
    """A uniformly random moment of the window, as (events after the window's first step
    started, seconds after that event): it maps onto a run of another speed by its progress."""
    moment = rng.uniform(0, (clock[-1] - clock[0]).total_seconds())
    index = max(i for i, t in enumerate(clock[:-1]) if (t - clock[0]).total_seconds() <= moment)
    return index, moment - (clock[index] - clock[0]).total_seconds()


def tables_to_load(data_dir: Path, day: date) -> set[str]:
    """The raw tables with a landing file of ``day`` that the build warehouse has not loaded
    (an earlier kill's run may have loaded part of the day)."""
    landing = data_dir / "landing"
    delivered = {
        path.relative_to(landing).as_posix()
        for path in landing.glob(f"*/dt={day}/*")
        if path.is_file() and not path.name.startswith((".", "_"))
    }
    con = _connect(data_dir / "warehouse" / "build.duckdb")
    try:
        loaded = {
            f for (f,) in con.execute("select source_file from raw._load_manifest").fetchall()
        }
    finally:
        con.close()
    return {path.split("/")[0] for path in delivered - loaded}


def ingest_kill_step(events: list[tuple], pending: set[str], rng, first: bool) -> str:
    """A raw step of ``pending`` (the tables still to load), drawn uniformly, in the order a
    run loads them (``events``: run B's), to kill the run as soon as that step starts.

    A raw step of this shop takes 0.1-0.3 s, about as long as the observer takes to see an
    event (its poll, and the CPU it waits for when the machine is loaded), so the kill lands
    in that step or the next, never at a moment that depends on how fast run B was. The last
    step is never drawn (its next is the audit's), and the first ingest kill draws from the
    first half, so that the second still finds tables to load."""
    steps = [s for _, _, kind, s, _ in events if kind == "STEP_START" and s in pending]
    drawn = steps[: len(steps) // 2] if first else steps[:-1]
    return rng.choice(drawn or steps)


def landed_in(events: list[tuple]) -> str:
    """The step a killed run was in: started and not finished (else the last one finished)."""
    open_steps = {}
    last = "before the first step"
    for _, _, kind, step, _ in events:
        if kind == "STEP_START":
            open_steps[step] = True
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            open_steps.pop(step, None)
            last = step
    return next(reversed(open_steps), None) or last


def process_group_alive(pgid: int) -> list[int]:
    """Processes still in the process group (a killed run must leave none, dbt included)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


# --------------------------------------------------------------------------------------------
# The zygote


class Zygote:
    """Forks ``kpi`` commands (or a bare ``publish()``) from a process that imported the
    pipeline's libraries once (``_zygote``), for one data directory."""

    def __init__(self, data_dir: Path, log_dir: Path):
        self.data_dir = data_dir
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        env = {
            k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "KPI_ALERT_WEBHOOK")
        }
        self._err = (log_dir / "zygote.err").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.crash_helpers", "zygote"],
            cwd=PROJECT_ROOT,
            env=env | {"KPI_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
        )
        self.count = 0
        self._buffer = b""  # answers read from the pipe, not consumed yet
        self._read(RUN_TIMEOUT_S)

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            wait_s = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.proc.stdout], [], [], wait_s)
            chunk = os.read(self.proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                raise RuntimeError(
                    f"the zygote gave no answer in {timeout:.0f} s; its stderr ends with:\n"
                    + (self.log_dir / "zygote.err").read_text()[-3000:]
                )
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def start(self, command: dict) -> tuple[int, Path]:
        """Fork a child for ``command``; its pid (= its process group) and its log file."""
        self.count += 1
        out = self.log_dir / f"{self.count:02d}-{command.get('name', 'kpi')}.log"
        self.proc.stdin.write((json.dumps(command | {"log": str(out)}) + "\n").encode())
        self.proc.stdin.flush()
        return self._read(60)["pid"], out

    def poll(self, pid: int) -> int | None:
        """The child's exit status if it has ended, else None."""
        ready = b"\n" in self._buffer or select.select([self.proc.stdout], [], [], 0)[0]
        return self.wait(pid, 10) if ready else None

    def wait(self, pid: int, timeout: float = RUN_TIMEOUT_S) -> int:
        """The child's exit status (negative: killed by that signal)."""
        try:
            answer = self._read(timeout)
        except RuntimeError:
            os.killpg(pid, signal.SIGKILL)
            raise
        assert answer["pid"] == pid
        return answer["status"]

    def kpi(self, *args: str, name: str = "kpi") -> tuple[int, str]:
        pid, out = self.start({"kind": "kpi", "args": list(args), "name": name})
        status = self.wait(pid)
        return status, out.read_text()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        self._err.close()


def _kpi_child(args: list[str]) -> int:
    from dagster_project.cli import main

    try:
        main(args=args, prog_name="kpi")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else int(done.code is not None)
    return 0


def _publish_child(command: dict) -> int:
    """``publish()`` alone, under the warehouse lock as in a run. With ``kill_at`` = (anchor,
    offset) the process SIGKILLs itself before the offset-th line of ``publication.py`` it
    executes after the first execution of line ``anchor`` (offset 0: before the anchor), and
    first writes where that was to ``<log>.where``. Prints every line it executed."""
    from dagster_project.core import warehouse
    from dagster_project.core.settings import Settings
    from dagster_project.ingest import contract
    from dagster_project.publish import publication

    settings = Settings.from_env()
    # The landing contract, read (and cached) as a run's ingest has read it before publish: under
    # the line tracer below, parsing its YAML would cost each kill about a second
    contract.tables()
    anchor, offset = command.get("kill_at") or (None, None)
    lines: list[int] = []
    after_anchor = None
    source = publication.__file__

    def local(frame, event, _arg):
        nonlocal after_anchor
        if event == "line":
            lines.append(frame.f_lineno)
            if after_anchor is not None:
                after_anchor += 1
            elif frame.f_lineno == anchor:
                after_anchor = 0
            if offset is not None and after_anchor == offset:
                where = {"line": frame.f_lineno, "executed": len(lines) - 1}
                Path(command["log"] + ".where").write_text(json.dumps(where))
                os.kill(os.getpid(), signal.SIGKILL)
        return local

    def calls(frame, _event, _arg):
        return local if frame.f_code.co_filename == source else None

    gate = publication.GateResult(checks_passed=command["checks_passed"])
    with warehouse.exclusive(settings, command["run_id"], print):
        sys.settrace(calls)
        try:
            publication.publish(settings, command["run_id"], gate)
        finally:
            sys.settrace(None)
    print(json.dumps({"lines": lines}))
    return 0


def publish_kill_points(lines: list[int]) -> list[tuple[int, int]]:
    """For each position of a publish's executed lines, a kill point that finds it again in a
    run whose loops over leftovers differ: (the last line before it that executed exactly once,
    lines executed since)."""
    once = {line for line in lines if lines.count(line) == 1}
    points, anchor = [], None
    for position, line in enumerate(lines):
        if line in once:
            anchor = (line, position)
        points.append((anchor[0], position - anchor[1]))
    return points


def _child(command: dict) -> None:
    code = 1
    try:
        os.setsid()
        out = os.open(command["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        code = _kpi_child(command["args"]) if command["kind"] == "kpi" else _publish_child(command)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _zygote() -> None:
    import warnings

    warnings.simplefilter("ignore")
    # The libraries `kpi` loads, loaded once here (~6 s a fork): each child then starts where
    # the kpi console script is after its imports. Not the pipeline's own modules: they read
    # the data directory when imported, which a child must see as it is when it starts.
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401
    import great_expectations  # noqa: F401

    answers = sys.stdout
    print(json.dumps({"ready": os.getpid()}), file=answers, flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(command)
        print(json.dumps({"pid": pid}), file=answers, flush=True)
        _, status = os.waitpid(pid, 0)
        print(
            json.dumps({"pid": pid, "status": os.waitstatus_to_exitcode(status)}),
            file=answers,
            flush=True,
        )


# --------------------------------------------------------------------------------------------
# Readers


def _reader(published: Path, out: Path, stop: Path) -> None:
    """A BI reader: in a loop, a new read-only connection to the published mart; on it, the
    tables present, then one statement reading the newest publication_log entry (run id,
    rows_per_table), every table's row count and a content fingerprint. An answer whose counts
    differ from the rows_per_table of the run its log names mixes publications: an error."""
    answers, errors, open_races, seen = 0, [], 0, []  # seen: [run id, answers, fingerprints]
    first = out.with_suffix(".ready")
    give_up = time.monotonic() + 3600  # should the test die without telling it to stop
    while not stop.exists() and time.monotonic() < give_up:
        try:
            con = duckdb.connect(str(published), read_only=True)
            try:
                tables = sorted(
                    n for (n,) in con.execute("show tables").fetchall() if n != LOG_TABLE
                )
                counts = ", ".join(f'(select count(*) from "{t}")' for t in tables)
                row = con.execute(
                    f"select run_id, rows_per_table, {counts},"
                    " (select sum(hash(t)) from kpi_daily t)"
                    f" from {LOG_TABLE} order by finished_at desc limit 1"
                ).fetchall()[0]
            finally:
                con.close()
            run_id, logged, numbers, fingerprint = row[0], dict(row[1]), row[2:-1], row[-1]
            if logged != dict(zip(tables, numbers, strict=True)):
                errors.append(f"answer mixes publications: {run_id} logs {logged}, read {numbers}")
            answers += 1
            if not seen or seen[-1][0] != run_id:
                seen.append([run_id, 0, []])
            seen[-1][1] += 1
            if str(fingerprint) not in seen[-1][2]:
                seen[-1][2].append(str(fingerprint))
            if answers == 1:
                first.touch()
        except Exception as error:  # counted, never raised: the test reads them
            if OPEN_RACE in str(error):
                open_races += 1
            else:
                errors.append(f"{type(error).__name__}: {error}")
        time.sleep(READER_PAUSE_S)
    result = {"answers": answers, "errors": errors, "open_races": open_races, "seen": seen}
    out.write_text(json.dumps(result))


class Readers:
    def __init__(self, published: Path, work: Path, n: int = READERS):
        work.mkdir(parents=True, exist_ok=True)
        self.stop_file = work / "stop"
        self.outs = [work / f"reader-{i}.json" for i in range(n)]
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.reliability.crash_helpers",
                    "reader",
                    str(published),
                    str(out),
                    str(self.stop_file),
                ],
                cwd=PROJECT_ROOT,
            )
            for out in self.outs
        ]
        deadline = time.monotonic() + 120
        while not all(o.with_suffix(".ready").exists() for o in self.outs):
            assert time.monotonic() < deadline, "the readers did not get a first answer"
            assert all(p.poll() is None for p in self.procs), "a reader died"
            time.sleep(0.1)

    def stop(self) -> list[dict]:
        self.stop_file.touch()
        for proc in self.procs:
            proc.wait(timeout=120)
        return [json.loads(out.read_text()) for out in self.outs]


# --------------------------------------------------------------------------------------------
# The shared history


@dataclass
class Run:
    name: str
    run_id: str
    seconds: float
    publication: Publication
    build: Build
    events: list[tuple]


def run_refresh(zygote: Zygote, name: str, *args: str) -> Run:
    """One uninterrupted ``kpi refresh`` through the zygote, asserted to exit 0 and publish."""
    events = Events(zygote.data_dir)
    mark = events.last_id()
    started = time.monotonic()
    status, output = zygote.kpi("refresh", *args, name=name)
    seconds = time.monotonic() - started
    assert status == 0 and "published " in output, f"{name} failed ({status}):\n{output[-4000:]}"
    run_events = events.since(mark, every=True)
    (run_id,) = {e[1] for e in run_events}
    publication = inspect_publication(zygote.data_dir / "published")
    assert not publication.problems, publication.problems
    assert publication.run_id == publication.parquet_run_id == run_id
    log(f"{name}: kpi refresh {' '.join(args)} published run {run_id[:8]} in {seconds:.0f} s")
    return Run(
        name,
        run_id,
        seconds,
        publication,
        inspect_build(zygote.data_dir / "warehouse" / "build.duckdb"),
        run_events,
    )


@dataclass
class History:
    """Run A (real ``kpi refresh``, days 1-6) in ``trial_dir``; in ``chain_dir`` (a copy of
    it) runs B (day 7), C (day 7 again, same inputs) and D (day 6's orders re-delivered,
    changed), with 4 readers querying throughout B, C and D. The chain runs in a background
    thread, while the crash trials use ``trial_dir``."""

    root: Path
    trial_dir: Path
    chain_dir: Path
    run_a_id: str = ""
    run_a_seconds: float = 0.0
    runs: dict[str, Run] = field(default_factory=dict)
    redelivery: dict = field(default_factory=dict)
    reader_results: list[dict] = field(default_factory=list)
    baseline_ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    thread: threading.Thread | None = None

    @property
    def baseline(self) -> Run:
        """Run B: the uninterrupted refresh of day 7 on top of run A's state."""
        self.wait(self.baseline_ready)
        return self.runs["B"]

    def wait(self, event: threading.Event | None = None) -> None:
        event = event or self.done
        while not event.wait(1):
            if self.error or not self.thread.is_alive():
                break
        if self.error:
            raise RuntimeError("the shared history failed") from self.error
        assert event.is_set(), "the shared history stopped early"

    def _chain(self) -> None:
        try:
            zygote = Zygote(self.chain_dir, self.root / "logs-chain")
            readers = Readers(self.chain_dir / "published" / PUBLISHED_FILE, self.root / "readers")
            try:
                self.runs["B"] = run_refresh(zygote, "B", "--date", str(NEW_DAY))
                shutil.copy(self.chain_dir / "published" / PUBLISHED_FILE, self.root / "B.duckdb")
                self.baseline_ready.set()
                self.runs["C"] = run_refresh(zygote, "C", "--date", str(NEW_DAY))
                shutil.copy(self.chain_dir / "published" / PUBLISHED_FILE, self.root / "C.duckdb")
                shutil.copy(
                    self.chain_dir / "warehouse" / "build.duckdb", self.root / "C-build.duckdb"
                )
                self.redelivery = redeliver_orders(self.chain_dir / "landing", REDELIVERED_DAY)
                self.runs["D"] = run_refresh(zygote, "D", "--date", str(REDELIVERED_DAY))
                shutil.copy(self.chain_dir / "published" / PUBLISHED_FILE, self.root / "D.duckdb")
                shutil.copy(
                    self.chain_dir / "warehouse" / "build.duckdb", self.root / "D-build.duckdb"
                )
                time.sleep(2)  # the readers see D's publication a while before they stop
            finally:
                self.reader_results = readers.stop()
                zygote.close()
        except BaseException as error:
            self.error = error
            traceback.print_exc()
        finally:
            self.done.set()
            self.baseline_ready.set()


_HISTORY: History | None = None


def shared_history(tmp_path_factory) -> History:
    """Build the history once per session (both modules use it)."""
    global _HISTORY
    if _HISTORY is None:
        from demo_shop import generate

        root = tmp_path_factory.mktemp("crash-history")
        history = History(root, root / "trial" / "data", root / "chain" / "data")
        generate(history.trial_dir / "landing", START, DAYS, SESSIONS_PER_DAY, seed=SEED)
        started = time.monotonic()
        env = {
            k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "KPI_ALERT_WEBHOOK")
        }
        result = subprocess.run(
            [str(KPI), "refresh", "--from", str(HISTORY_DAYS[0]), "--to", str(HISTORY_DAYS[1])],
            env=env | {"KPI_DATA_DIR": str(history.trial_dir)},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        history.run_a_seconds = time.monotonic() - started
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "published " in result.stdout, result.stdout[-3000:]
        log(
            f"A: kpi refresh --from {HISTORY_DAYS[0]} --to {HISTORY_DAYS[1]} (the real `kpi` "
            f"executable) exited 0 and published in {history.run_a_seconds:.0f} s"
        )
        history.run_a_id = inspect_publication(history.trial_dir / "published").run_id
        shutil.copytree(history.trial_dir, history.chain_dir, symlinks=True)
        # not a daemon: a session that ends early still waits for the chain to clean up
        history.thread = threading.Thread(target=history._chain, name="history")
        history.thread.start()
        _HISTORY = history
    return _HISTORY


if __name__ == "__main__":
    if sys.argv[1] == "zygote":
        _zygote()
    elif sys.argv[1] == "reader":
        _reader(*(Path(a) for a in sys.argv[2:5]))
