"""The Dagster code location: each stage's part of the definitions, merged.

The flow: ingest (landing files -> raw) -> transform (dbt: staging .. marts) -> quality (the
audit that gates publication) -> publish (the mart readers see, and the report); orchestration
runs it (jobs, the nightly schedule, the landing sensor). Loading does no work beyond parsing
the dbt manifest when it is missing or stale.
"""

import dagster as dg

from dagster_project.cli import definitions as cli
from dagster_project.ingest import definitions as ingest
from dagster_project.orchestration import definitions as orchestration
from dagster_project.orchestration import run_history
from dagster_project.publish import definitions as publish
from dagster_project.quality import definitions as quality
from dagster_project.transform import definitions as transform

run_history.tune()

# one Definitions object at module scope (dagster dev refuses a module with several)
defs = dg.Definitions.merge(
    ingest.defs, transform.defs, quality.defs, publish.defs, orchestration.defs, cli.defs
)
