"""Child process of the concurrency test: one run of the raw layer over the landing days.

Usage: python run_raw_layer.py FIRST_DAY LAST_DAY   (KPI_DATA_DIR and DAGSTER_HOME set)
"""

import sys
from datetime import date

import dagster as dg

from dagster_project.core.partitions import range_tags
from dagster_project.definitions import defs

raw = {key for key in defs.resolve_asset_graph().get_all_asset_keys() if key.path[0] == "raw"}
job = defs.resolve_job_def("refresh").get_subset(asset_selection=raw)
first, last = (date.fromisoformat(arg) for arg in sys.argv[1:3])
with dg.DagsterInstance.get() as instance:
    result = job.execute_in_process(
        instance=instance, tags=range_tags(first, last), raise_on_error=False
    )
print(result.run_id)
sys.exit(0 if result.success else 1)
