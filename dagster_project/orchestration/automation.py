"""What runs by itself once the Dagster daemon is up (`kpi ui`).

- ``nightly_refresh``: at KPI_NIGHTLY_AT (02:00) shop time, refresh yesterday's partition
  end to end, through the gate to publication and the report.
- ``landing_sensor``: when a landing day is complete (or a file of a complete day changed,
  e.g. a late delivery), refresh that day; several days at once become one run over the range.
  Its first evaluation starts from what the build warehouse already holds: a day whose files
  are all loaded (or failed to load) unchanged does not run again.
- ``freshness_schedule``: hourly freshness checks of the daily sources and the publication.
- ``alert_on_run_failure``: a failed run sends the same alert as a refused publication.
- ``alert_on_stale_data``: a freshness check that finds its asset stale sends an alert.
"""

import json
from collections.abc import Collection, Mapping
from datetime import date

import dagster as dg

from dagster_project.core import warehouse
from dagster_project.core.alerts import send_alert
from dagster_project.core.partitions import DAILY, range_tags
from dagster_project.core.settings import Settings
from dagster_project.ingest.landing_days import FileStat, LandingDay, complete_landing_days
from dagster_project.ingest.loader import recorded_files
from dagster_project.orchestration.jobs import LAUNCHED_BY, freshness_job, refresh_job
from dagster_project.quality.freshness import alert_stale
from dagster_project.quality.verdict import conclude

_settings = Settings.from_env()

nightly_refresh = dg.build_schedule_from_partitioned_job(
    refresh_job,
    name="nightly_refresh",
    description="Refresh yesterday's partition, shop time; KPI_NIGHTLY_AT sets the hour.",
    hour_of_day=_settings.nightly_at.hour,
    minute_of_hour=_settings.nightly_at.minute,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={LAUNCHED_BY: "schedule"},
)

freshness_schedule = dg.ScheduleDefinition(
    name="freshness_schedule",
    job=freshness_job,
    cron_schedule="15 * * * *",
    execution_timezone=_settings.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={LAUNCHED_BY: "schedule"},
)


def landing_run_request(
    landing_days: dict[date, str], seen: dict[str, str], last_partition: date, first: date
) -> tuple[dg.RunRequest | None, dict[str, str]]:
    """The run for the complete days that are new or changed since ``seen``, and the cursor
    after it. Days after the newest partition wait until their day is over."""
    changed = {
        day: fingerprint
        for day, fingerprint in landing_days.items()
        if first <= day <= last_partition and seen.get(day.isoformat()) != fingerprint
    }
    if not changed:
        return None, seen
    low, high = min(changed), max(changed)
    run_key = "|".join(f"{day}:{fingerprint}" for day, fingerprint in changed.items())
    tags = {LAUNCHED_BY: "sensor"}
    if low == high:
        request = dg.RunRequest(run_key=run_key, partition_key=low.isoformat(), tags=tags)
    else:
        request = dg.RunRequest(run_key=run_key, tags=tags | range_tags(low, high))
    return request, seen | {day.isoformat(): fp for day, fp in changed.items()}


def already_loaded(
    days: Mapping[date, LandingDay], recorded: Mapping[str, Collection[FileStat]]
) -> dict[str, str]:
    """The cursor the sensor starts from when it has none: the fingerprint of each complete day
    whose every file the loader recorded with its current size and modification time, loaded
    or failed (``recorded_files``). A run would load nothing from such a day: the loader skips
    an unchanged file and does not retry an unchanged failed one. A day with a new or changed
    file is left out, so that it runs."""
    return {
        day.isoformat(): landing_day.fingerprint
        for day, landing_day in days.items()
        if all(
            not stats.isdisjoint(recorded.get(source_file, ()))
            for source_file, stats in landing_day.files.items()
        )
    }


def _recorded(settings: Settings) -> dict[str, set[FileStat]]:
    if not settings.build_db.exists():
        return {}  # nothing loaded yet: every complete day is new
    with warehouse.read_when_idle(settings) as con:
        return recorded_files(con)


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreshes a landing day once it is complete (every daily source delivered, "
    "or landing/_SUCCESS/dt=<day> exists), and again when one of its files changes. Without a "
    "cursor yet, it starts from the days already loaded unchanged in the build warehouse.",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    settings = Settings.from_env()
    days = complete_landing_days(settings.landing_dir)
    # the partitions were fixed when the code location loaded; earlier days wait for a reload
    first_partition = date.fromisoformat(DAILY.get_first_partition_key())
    too_early = [day for day in days if day < first_partition]
    if too_early:
        context.log.warning(
            f"landing days before the first daily partition {first_partition} are not "
            f"refreshed: {too_early[0]} .. {too_early[-1]} (restart `kpi ui` to add them, or "
            "set KPI_FIRST_BUSINESS_DATE)"
        )
    if context.cursor:
        seen = json.loads(context.cursor)
    else:
        # The first evaluation (a new instance, or the cursor reset in the UI): without this,
        # every complete day on disk would look new and starting the UI would refresh them all.
        try:
            seen = already_loaded(days, _recorded(settings))
        except warehouse.WarehouseBusy as busy:
            return dg.SkipReason(
                f"cannot read what {settings.build_db} already holds: {busy}; "
                "trying again at the next tick"
            )
    last_partition = date.fromisoformat(DAILY.get_last_partition_key())
    request, cursor = landing_run_request(
        {day: d.fingerprint for day, d in days.items()},
        seen,
        last_partition,
        first_partition,
    )
    if request is not None:
        return dg.SensorResult(run_requests=[request], cursor=json.dumps(cursor, sort_keys=True))
    skip = f"no new or changed complete day in {settings.landing_dir}"
    if context.cursor:
        return dg.SkipReason(skip)
    # keep the seeded cursor, so that the warehouse is read once, not at every tick
    return dg.SensorResult(
        skip_reason=f"{skip} ({len(seen)} complete day(s) already loaded)",
        cursor=json.dumps(cursor, sort_keys=True),
    )


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (log line; KPI_ALERT_WEBHOOK when set) when a run fails.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    if run.tags.get(LAUNCHED_BY) == "cli":
        return  # `kpi refresh` concludes and alerts itself
    if run.job_name == refresh_job.name:
        conclude(context.instance, run.run_id, Settings.from_env())
    else:
        send_alert(
            "run_failed",
            f"run {run.run_id} of job {run.job_name} failed: {context.failure_event.message}",
            run_id=run.run_id,
        )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (log line; KPI_ALERT_WEBHOOK when set) for each freshness check a run "
    "found stale: a daily source or the publication older than KPI_FRESHNESS_HOURS.",
)
def alert_on_stale_data(context: dg.RunStatusSensorContext) -> None:
    # a stale check fails at WARN severity, so its run succeeds: the freshness job's hourly
    # runs, and a materialization from the UI that ran the checks too
    alert_stale(context.instance, context.dagster_run.run_id)


schedules = [nightly_refresh, freshness_schedule]
sensors = [landing_sensor, alert_on_run_failure, alert_on_stale_data]
