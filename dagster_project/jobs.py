"""Jobs: what a refresh materializes."""

import dagster as dg

# DuckDB allows one writer per file: steps run one after another in the run's own process.
refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Load every new or changed landing file, then everything downstream of it.",
)
