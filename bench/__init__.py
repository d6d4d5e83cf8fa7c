"""``kpi-bench``: how long a refresh takes, how much memory it needs, how far it is from the floor.

One invocation, for one size of the demo shop:

1. generates the landing files once per size into ``bench/data/<size>/cache`` (reused while
   its marker says the same parameters; the generator's rows per second are measured then);
2. per repeat, in a fresh data directory ``bench/data/<size>/run``: links every day but the
   last into its landing zone, runs the floor, runs ``kpi refresh`` (the full refresh) as a
   subprocess, reads each step's wall time from the run's Dagster history, links the last day
   in and runs ``kpi refresh --date <last day>`` (the one-day incremental);
3. writes ``bench/results/<size>.json`` and ``bench/results/<size>.md``.

The floor (``floor.py``) is one plain DuckDB connection computing the same mart tables from
the dbt project's compiled SQL: no Dagster, no dbt runner, no Great Expectations.
Every path is computed here; nothing is written outside the bench folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagster_project.core.settings import PROJECT_ROOT

# Disk one invocation needs under bench/data, per generated session: a complete large invocation
# on 0595d95 (df sampled every 20 s) peaked at 46.3 GB beyond what was in use before it, in its
# full refresh's dbt build (a 22 GB warehouse and DuckDB's spill; its floor, which runs first,
# peaked at 43.7 GB), plus its 7.6 GB of cached landing files; plus 10%, over its 73 M sessions.
DISK_BYTES_PER_SESSION = 812


@dataclass(frozen=True)
class Size:
    name: str
    days: int
    sessions_per_day: int
    default_repeat: int  # runs whose median is reported
    history_check: bool  # also time an incremental on a short history (see runner.py)

    @property
    def disk_bytes(self) -> int:
        """Free disk an invocation needs (see DISK_BYTES_PER_SESSION)."""
        return self.days * self.sessions_per_day * DISK_BYTES_PER_SESSION


SIZES: dict[str, Size] = {
    "small": Size("small", days=30, sessions_per_day=5_000, default_repeat=3, history_check=False),
    "medium": Size(
        "medium", days=365, sessions_per_day=50_000, default_repeat=3, history_check=True
    ),
    "large": Size(
        "large", days=365, sessions_per_day=200_000, default_repeat=1, history_check=True
    ),
}
# The short history of the history check: five weeks, so the trailing 28-day norms of the audit
# have a full window, against the full year of medium and large.
SHORT_HISTORY_DAYS = 35


@dataclass(frozen=True)
class BenchPaths:
    """Where the bench writes: ``<root>/data/`` (generated, git-ignored) and ``<root>/results/``."""

    root: Path

    @classmethod
    def default(cls) -> BenchPaths:
        return cls(PROJECT_ROOT / "bench")

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    def result_json(self, size: str) -> Path:
        return self.results_dir / f"{size}.json"

    def result_markdown(self, size: str) -> Path:
        return self.results_dir / f"{size}.md"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def cache_dir(self, size: str) -> Path:
        """The generated landing files of one size (``landing/``) and their marker."""
        return self.data_dir / size / "cache"

    def run_dir(self, size: str, name: str) -> Path:
        """A pipeline data directory (KPI_DATA_DIR) of one measured run."""
        return self.data_dir / size / name

    @property
    def compile_dir(self) -> Path:
        """Where ``dbt compile`` writes the SQL the floor runs (its own KPI_DATA_DIR)."""
        return self.data_dir / "dbt_compile"
