"""Orchestration's part of the code location: the jobs, the nightly schedule and the sensors,
the build warehouse every run uses, and how a run executes."""

import dagster as dg

from dagster_project.core.resources import WarehouseResource
from dagster_project.orchestration.automation import schedules, sensors
from dagster_project.orchestration.jobs import freshness_job, refresh_job

defs = dg.Definitions(
    jobs=[refresh_job, freshness_job],
    schedules=schedules,
    sensors=sensors,
    resources={"warehouse": WarehouseResource()},
    # every run (also a materialization from the UI) executes its steps in one process, so
    # the warehouse lock its resource takes covers the whole run
    executor=dg.in_process_executor,
)
