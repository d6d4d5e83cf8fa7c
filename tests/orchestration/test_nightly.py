"""A night run from the nightly schedule's own run request after five days of history, then a
late file for that night's day, picked up by the landing sensor and run while a reader queries
the metrics (a small shop). The late file's run is a partitioned run after a partitioned run:
what holds for it (it loads only its day, rewrites only its day's rows, starts from the parse
of the build before it) holds for any later night."""

import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from dagster_project.core.partitions import range_tags
from dagster_project.core.settings import Settings
from dagster_project.ingest.landing_days import complete_days
from dagster_project.orchestration.automation import landing_sensor
from dagster_project.orchestration.run_history import write_instance_config
from dagster_project.publish.publication import published_path
from dagster_project.quality.verdict import PUBLISHED_KEY
from dagster_project.serve.metrics import Metrics
from demo_shop import generate
from tests.conftest import LATE_ORDER_GMV, write_late_order
from tests.serve.metrics_reader import MetricsReader
from tests.serve.metrics_reader import answer as metrics_answer

START = date(2025, 6, 1)
HISTORY_DAYS = 5  # loaded by a first run over the range
INCREMENTAL_FACTS = ["fct_sessions", "fct_events", "fct_orders", "fct_order_items"]
SHOP_TZ = ZoneInfo("Asia/Shanghai")


def _deliver_day(source, landing, day: date) -> None:
    for folder in source.glob(f"*/dt={day}"):
        shutil.copytree(folder, landing / folder.parent.name / folder.name)


def _invocations(settings: Settings, fact: str) -> dict[tuple[date, str], int]:
    """Rows of ``fact`` per delivery day and the dbt invocation that wrote them."""
    if not settings.build_db.exists():
        return {}
    with duckdb.connect(settings.build_db, read_only=True) as con:
        rows = con.execute(
            f"select _delivery_date, _dbt_invocation_id, count(*) from marts.{fact} group by all"
        ).fetchall()
    return {(day, invocation): n for day, invocation, n in rows}


def _published(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(published_path(settings), read_only=True) as con:
        return con.execute(sql).fetchall()


@dataclass(frozen=True)
class Observed:
    """A partitioned run: the rows of each incremental fact per (delivery day, dbt invocation)
    before and after it, and the raw partitions it materialized."""

    what: str  # night | late file's run
    day: date
    before: dict[str, dict[tuple[date, str], int]]
    after: dict[str, dict[tuple[date, str], int]]
    raw_partitions: set[str]


def _day_orders(settings: Settings, day: date) -> tuple[int, float]:
    ((orders, gmv),) = _published(
        settings,
        f"select sum(orders), sum(gmv) from kpi_orders_daily where kpi_date = '{day}'",
    )
    return orders, float(gmv)


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """Run the history, the night and the late file once; yield what each step observed."""
    root = tmp_path_factory.mktemp("nightly")
    source = root / "generated"
    generate(source, START, 7, 300, seed=5)  # the history, the night, a day to spare
    observed = {"runs": [], "orders": {}}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KPI_DATA_DIR", str(root / "data"))
        settings = Settings.from_env()
        env.setenv("DAGSTER_HOME", str(write_instance_config(settings).parent))
        from dagster_project.definitions import defs

        job = defs.resolve_job_def("refresh")

        def run(what: str, day: date, request: dg.RunRequest) -> None:
            """Run a request of the schedule or the sensor; observe what it wrote."""
            before = {f: _invocations(settings, f) for f in INCREMENTAL_FACTS}
            result = job.execute_in_process(
                instance=instance, partition_key=request.partition_key, tags=request.tags
            )
            assert result.success, f"the {what} of {day} failed"
            after = {f: _invocations(settings, f) for f in INCREMENTAL_FACTS}
            raw = {
                event.partition
                for event in result.get_asset_materialization_events()
                if event.asset_key.path[0] == "raw"
            }
            observed["runs"].append(Observed(what, day, before, after, raw))

        history = [START + timedelta(days=i) for i in range(HISTORY_DAYS)]
        for day in history:
            _deliver_day(source, settings.landing_dir, day)
        with dg.DagsterInstance.get() as instance:
            first = job.execute_in_process(
                instance=instance, tags=range_tags(history[0], history[-1])
            )
            assert first.success
            night = START + timedelta(days=HISTORY_DAYS)
            _deliver_day(source, settings.landing_dir, night)
            at = datetime.combine(night + timedelta(days=1), time(2), SHOP_TZ)
            context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at)
            (request,) = (
                defs.resolve_schedule_def("nightly_refresh").evaluate_tick(context).run_requests
            )
            run("night", night, request)

            # a late file for the night's day, then the landing sensor's run
            cursor = {d.isoformat(): fp for d, fp in complete_days(settings.landing_dir).items()}
            observed["orders"]["before"] = _day_orders(settings, night)
            write_late_order(settings.landing_dir, night)
            sensed = landing_sensor(
                dg.build_sensor_context(instance=instance, cursor=json.dumps(cursor))
            )
            (request,) = sensed.run_requests
            observed["late_request"] = request
            # a reader of the metrics (what `kpi query` runs) queries all through that run
            metrics = Metrics(settings)
            observed["metrics_before"] = metrics_answer(metrics)
            reader = MetricsReader(settings, root / "metrics-reader")
            try:
                run("late file's run", night, request)
            finally:
                observed["metrics_reader"] = reader.stop()
            observed["metrics_after"] = metrics_answer(metrics)
            observed["orders"]["after"] = _day_orders(settings, night)
            observed["late_day"] = night
        yield settings, observed


def test_each_run_publishes_as_of_the_newest_day(nightly):
    settings, observed = nightly
    rows = _published(
        settings,
        "select as_of_date from publication_log where outcome = 'published' order by finished_at",
    )
    as_of = [day for (day,) in rows]
    # the history, the night, then the late file's run (as of the newest day, still)
    night = observed["late_day"]
    assert as_of == [START + timedelta(days=HISTORY_DAYS - 1), night, night]


def test_a_partitioned_run_loads_only_its_own_day(nightly):
    _, observed = nightly
    assert [run.what for run in observed["runs"]] == ["night", "late file's run"]
    for run in observed["runs"]:
        assert run.raw_partitions == {run.day.isoformat()}, run.what


def test_a_partitioned_run_rewrites_only_its_days_rows_of_the_incremental_facts(nightly):
    _, observed = nightly
    for run in observed["runs"]:
        for fact in INCREMENTAL_FACTS:
            before, after = run.before[fact], run.after[fact]
            new = {key: n for key, n in after.items() if key not in before}
            assert new, f"{fact}: the {run.what} of {run.day} wrote no row"
            assert {delivered for delivered, _ in new} == {run.day}, (run.what, fact)
            # Rows of other deliveries keep the invocation that wrote them. A row moves into
            # the run only when the run delivered part of it (its _delivery_date is the newest
            # delivery it is built from: an order's status update, a session's late events):
            # then the run rewrote it, and it is in `new` above.
            for key, n in after.items():
                if key[0] != run.day:
                    assert n <= before[key], (run.what, fact, key)


def test_a_late_file_reprocesses_its_day_and_changes_its_kpis(nightly):
    _, observed = nightly
    assert observed["late_request"].partition_key == observed["late_day"].isoformat()
    orders_before, gmv_before = observed["orders"]["before"]
    orders_after, gmv_after = observed["orders"]["after"]
    assert orders_after == orders_before + 1
    assert gmv_after == pytest.approx(gmv_before + LATE_ORDER_GMV)


def test_the_metrics_answer_from_one_publication_while_the_late_run_publishes(nightly):
    """No query fails, and every answer is the old publication's or the new one's (orders and
    GMV of the same publication)."""
    _, observed = nightly
    old, new = tuple(observed["metrics_before"]), tuple(observed["metrics_after"])
    assert new[0] == old[0] + 1  # the late order
    assert Decimal(new[1]) == Decimal(old[1]) + LATE_ORDER_GMV
    reader = observed["metrics_reader"]
    assert reader["errors"] == []
    assert len(reader["answers"]) > 20
    assert {tuple(a) for a in reader["answers"]} <= {old, new}


def test_the_fresh_publication_passes_its_freshness_check(nightly):
    from dagster_project.definitions import defs

    settings, _ = nightly
    # the run history these runs wrote (each test gets its own DAGSTER_HOME otherwise)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    (publication,) = [
        e for e in result.get_asset_check_evaluations() if e.asset_key == PUBLISHED_KEY
    ]
    assert publication.passed


def _full_parses(settings: Settings) -> list[bool]:
    """Per dbt build of this data directory, in order: whether dbt parsed the whole project
    again (its JSON log, dbt.log and its rotated files, says so with UnableToPartialParse)."""
    builds: dict[str, tuple[str, bool]] = {}
    for log in settings.dbt_build_target_dir.glob("dbt.log*"):
        for line in log.read_text().splitlines():
            info = json.loads(line)["info"]
            started, full = builds.get(info["invocation_id"], (info["ts"], False))
            builds[info["invocation_id"]] = (
                min(started, info["ts"]),
                full or info["name"] == "UnableToPartialParse",
            )
    return [full for _, full in sorted(builds.values())]


def test_a_night_parses_only_what_changed(nightly):
    """No build parses the whole project again (~5 s a night): the first starts from the code
    location's parse, each later one from the build's before it. A parse serves any data
    directory (the profile names none: transform/warehouse_plugin.py)."""
    settings, _ = nightly
    full_parses = _full_parses(settings)
    # the history, the night, the late file's run
    assert full_parses == [False] * 3
