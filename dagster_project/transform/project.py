"""The dbt project as Dagster sees it, with its manifest kept under the data directory."""

import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

from dagster_dbt import DagsterDbtCliRuntimeError, DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dagster_shared.record import replace
from dbt.constants import (
    MANIFEST_FILE_NAME,
    PARTIAL_PARSE_FILE_NAME,
    SEMANTIC_MANIFEST_FILE_NAME,
)
from packaging.version import Version

from dagster_project.core.settings import DBT_PROJECT_DIR, Settings
from dagster_project.transform.parsed import is_current


def dbt_project(settings: Settings | None = None) -> DbtProject:
    """The project; ``prepare_if_dev()`` parses it when its manifest is missing or stale."""
    settings = settings or Settings.from_env()
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=settings.dbt_target_dir,
    )
    return replace(project, preparer=StaleManifestPreparer())


def dbt_environment(
    settings: Settings,
    absent_sources: Sequence[str] = (),
    window: tuple[date, date] | None = None,
) -> dict[str, str]:
    """What dbt reads from the environment besides the profile's settings: the shop as the
    settings resolved it, the sources never delivered, and the days a run covers.

    Environment variables rather than --vars: dbt parses the whole project again whenever its
    vars differ from the parse it saved, but only the files that read an environment variable
    when that variable changes. So a build reuses the parse the code location made (with the
    same shop and no window) and re-parses a handful of files.
    """
    first, last = (day.isoformat() for day in window) if window else ("", "")
    return {
        # dbt.log (beside the build's artefacts) keeps what the console shows and every
        # warning and error; dbt's debug lines (each query's text, every node's start) cost a
        # refresh about a second of CPU for a log nobody reads: the compiled SQL is in target/
        "DBT_LOG_LEVEL_FILE": "info",
        "KPI_SHOP_NAME": settings.shop_name,
        "KPI_TIMEZONE": settings.timezone,
        "KPI_CURRENCY": settings.currency,
        "KPI_ABSENT_SOURCES": ",".join(absent_sources),
        "KPI_WINDOW_START": first,
        "KPI_WINDOW_END": last,
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` while dbt starts (dagster-dbt hands dbt a copy of it)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LocalDbtCliResource(DbtCliResource):
    """dagster-dbt's resource for the dbt of this environment, without two start-up costs it
    pays for what this project does not use (a one-day refresh: about 3 s less of 52 s):

    - it asks ``dbt --version`` in a subprocess (a whole dbt start) which engine it runs;
      the dbt it runs is this environment's, so the installed dbt-core's version answers;
    - it opens a dbt adapter in the pipeline's process, which serves only its column metadata
      and row counts (``fetch_column_metadata``, ``fetch_row_counts``), never called here.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """dbt from this environment, whether or not the virtualenv is on PATH."""
    return LocalDbtCliResource(
        project_dir=project, dbt_executable=str(Path(sys.executable).with_name("dbt"))
    )


class StaleManifestPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparation (``dbt parse`` under its guard: of processes starting at once,
    one parses, the others wait and use its manifest), in every process, when needed.

    Headless runs (``kpi refresh``, tests) have no ``dagster dev`` to prepare the project, and
    an unchanged project's partial parse still costs a dbt start (about 7 s here); so any process
    prepares, but only when the manifest is missing or older than a file dbt parses.

    With ``KPI_DBT_PARSE_CACHE`` set, data directories share their parse through that folder
    (the profile names no directory, so a parse serves any): a new data directory copies a
    current one instead of starting dbt, and a parse starts from the cached one, so that only
    what changed is parsed again (a whole parse: about 8 s more).
    """

    def prepare_if_dev(self, project: DbtProject) -> None:
        if not is_current(project.manifest_path):
            self.prepare(project)

    def _prepare_manifest(self, project: DbtProject) -> None:
        target = Path(project.target_path)
        settings = Settings.from_env()
        cache = settings.dbt_parse_cache
        if cache is not None and is_current(cache / MANIFEST_FILE_NAME):
            _copy_parse(cache, target)
            return
        # dagster-dbt's runs the `dbt` on PATH; its partial-parse fix for relocated seeds is
        # not needed: the project is parsed where it runs
        args = [*self._prepare_project_cli_args, *start_from_cached_parse(cache)]
        with environment(dbt_environment(settings)):
            try:
                dbt_resource(project).cli(args, target_path=target).wait()
            except DagsterDbtCliRuntimeError:
                # dbt's partial parse of its last parse can fail where a whole parse does not
                # (metrics moved to another file: "dbt found two metrics with the name ...")
                full = [*self._prepare_project_cli_args, "--no-partial-parse"]
                dbt_resource(project).cli(full, target_path=target).wait()
        if cache is not None:
            _copy_parse(target, cache)


def start_from_cached_parse(cache: Path | None) -> list[str]:
    """dbt's flags to start from the partial parse in ``KPI_DBT_PARSE_CACHE``, when it holds
    one (dbt reads it from there and writes its own parse to its target folder)."""
    saved = cache / PARTIAL_PARSE_FILE_NAME if cache is not None else None
    return ["--partial-parse-file-path", str(saved)] if saved and saved.exists() else []


# What a parse leaves that the pipeline reads: the manifest last, as it is what says a parse is
# current (transform/parsed.py)
PARSE_FILES = (PARTIAL_PARSE_FILE_NAME, SEMANTIC_MANIFEST_FILE_NAME, MANIFEST_FILE_NAME)


def _copy_parse(source: Path, destination: Path) -> None:
    """Copy a parse's files, each replaced at once (processes of other data directories may be
    reading them), keeping their modification times."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PARSE_FILES:
        staged = destination / f".{name}.{os.getpid()}"
        shutil.copy2(source / name, staged)
        staged.replace(destination / name)
