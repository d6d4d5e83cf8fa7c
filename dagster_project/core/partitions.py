"""Daily partitions: one per business day of delivery, in the shop's time zone.

A partition is a landing day: the files in ``landing/<table>/dt=<day>/``. The raw assets load
a partition's files; the incremental dbt facts rebuild the rows those deliveries touched
(the run's days reach dbt as vars). Everything else is rebuilt whole by every run. The
newest partition is yesterday (shop time): a day's extracts are complete once it is over.
"""

from collections.abc import Mapping
from datetime import date

import dagster as dg

from dagster_project.core.settings import Settings

# Dagster's tags for a run over a range of partitions (one run, not one run per day).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=settings.first_business_date.isoformat(),
        timezone=settings.timezone,
        end_offset=0,
    )


# Read when the code location loads: Dagster needs the partitions to list assets and schedules.
DAILY = daily_partitions(Settings.from_env())
SINGLE_RUN = dg.BackfillPolicy.single_run()


def window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The first and last business day a run covers."""
    keys = context.partition_key_range
    return date.fromisoformat(keys.start), date.fromisoformat(keys.end)


def run_window(tags: Mapping[str, str]) -> tuple[date, date] | None:
    """The days a run covers, from its tags (None: a run without partitions)."""
    if RANGE_START_TAG in tags:
        return date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
    if PARTITION_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_TAG])
        return day, day
    return None


def range_tags(first: date, last: date) -> dict[str, str]:
    """Tags that make one run cover the days ``first`` .. ``last``."""
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
