"""``kpi ui``: ``dagster dev`` under the supervisor of core/supervise.py, which stops it, and
every process it started, when asked to (``dagster dev`` alone ignores SIGTERM when started
with SIGINT ignored, and leaves orphaned code servers and run workers behind).
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_project.core.supervise import supervise


def dagster_dev(port: int) -> list[str]:
    """The ``dagster dev`` command line of this project, on 127.0.0.1."""
    dagster = Path(sys.executable).with_name("dagster")
    args = ["dev", "-m", "dagster_project.definitions", "-h", "127.0.0.1", "-p", str(port)]
    return [str(dagster), *args]


def serve(port: int) -> int:
    """Run the Dagster UI and daemon until they end or this process is asked to stop."""
    return supervise(dagster_dev(port), "Dagster")
