"""Jobs: what a refresh materializes, and the hourly freshness checks."""

import dagster as dg

from dagster_project.quality.freshness import freshness_checks

# Every run that touches the build warehouse carries this tag; the run queue (dagster.yaml)
# launches one at a time, and the warehouse resource's lock makes any other run wait.
WAREHOUSE_TAG = {"kpi/warehouse": "build"}
# Who started a run: the CLI concludes its own runs, sensors conclude the others.
LAUNCHED_BY = "kpi/launched_by"

# Steps run one after another in the run's own process (the code location's executor).
refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
    tags=WAREHOUSE_TAG,
    description="Load the new or changed landing files of the run's days (its partitions), "
    "rebuild everything downstream, audit it, and publish it if the audit passed.",
)

# Dagster's freshness checks read its run history, not the warehouse: no WAREHOUSE_TAG, so that
# they do not queue behind a long refresh.
freshness_job = dg.define_asset_job(
    "freshness",
    selection=dg.AssetSelection.checks(*freshness_checks),
    description="Are the daily sources and the publication younger than KPI_FRESHNESS_HOURS?",
)
