"""The Dagster code location: each stage's part of the definitions, merged.

The flow: ingest (landing files -> raw) -> transform (dbt: staging .. marts) -> quality (the
audit that gates publication) -> publish (the mart readers see, and the report); orchestration
runs it (jobs, the nightly schedule, the landing sensor). Loading does no work beyond parsing
the dbt manifest when it is missing or stale.
"""

import dagster as dg

from dagster_project.cli.definitions import defs as cli
from dagster_project.ingest.definitions import defs as ingest
from dagster_project.orchestration import run_history
from dagster_project.orchestration.definitions import defs as orchestration
from dagster_project.publish.definitions import defs as publish
from dagster_project.quality.definitions import defs as quality
from dagster_project.transform.definitions import defs as transform

run_history.tune()

defs = dg.Definitions.merge(ingest, transform, quality, publish, orchestration, cli)
