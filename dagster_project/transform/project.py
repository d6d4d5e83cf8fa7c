"""The dbt project as Dagster sees it, with its manifest kept under the data directory."""

import fcntl
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from dagster_project.core.settings import DBT_PROJECT_DIR, Settings

# What dbt reads when it parses: a change to any of these makes the manifest stale.
_PARSED_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def dbt_project(settings: Settings | None = None) -> DbtProject:
    settings = settings or Settings.from_env()
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=settings.dbt_target_dir,
    )


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """dbt from this environment, whether or not the virtualenv is on PATH."""
    return DbtCliResource(
        project_dir=project, dbt_executable=str(Path(sys.executable).with_name("dbt"))
    )


def _newest_source_mtime() -> float:
    paths = [DBT_PROJECT_DIR, *DBT_PROJECT_DIR.parent.joinpath("seeds").rglob("*")]
    for folder in ("models", "macros", "tests", "snapshots"):
        paths.extend(DBT_PROJECT_DIR.joinpath(folder).rglob("*"))
    paths.append(DBT_PROJECT_DIR / "dbt_project.yml")
    return max(p.stat().st_mtime for p in paths if p.suffix in _PARSED_SUFFIXES or p.is_dir())


def _is_current(manifest: Path) -> bool:
    return manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime()


def ensure_manifest(project: DbtProject) -> Path:
    """Parse the dbt project when its manifest is missing or older than its sources.

    Headless runs (``kpi refresh``, tests) have no ``dagster dev`` to prepare the project, so
    the code location does it itself; an up-to-date manifest costs one ``stat`` per file.
    Processes that start together (two runs, ``kpi ui`` and a refresh) parse one at a time: the
    second finds the first one's manifest instead of writing the same target files at once.
    """
    manifest = project.manifest_path
    if _is_current(manifest):
        return manifest
    target = project.project_dir.joinpath(project.target_path)
    target.mkdir(parents=True, exist_ok=True)
    with target.joinpath("parse.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_current(manifest):
            dbt_resource(project).cli(["--quiet", "parse"], target_path=project.target_path).wait()
    return manifest
