"""Shared fixtures: every test gets its own data directory; nothing touches ./data."""

import fcntl
import hashlib
import os
import pickle
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from demo_shop.truths import DemoSize


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


TALLY = "tally"


@pytest.fixture
def record_tally(request):
    """``record_tally(text)``: print a section's cases tried / passed, and list it again at the
    end of the run (``pytest_terminal_summary``): xdist workers' printed output is not shown."""

    def record(text: str) -> None:
        text = text.strip("\n")
        print(f"\n{text}")
        request.node.user_properties.append((TALLY, text))

    return record


def pytest_terminal_summary(terminalreporter):
    tallies = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", None) == "call"
        for name, value in report.user_properties
        if name == TALLY
    ]
    if tallies:
        terminalreporter.section("tallies (cases tried / passed)")
        for text in tallies:
            terminalreporter.write_line(text)


def pytest_sessionstart(session):
    """Before collection imports the code location (which parses the dbt project into its data
    directory): a data directory of the session's for it, not ./data; and the folder where
    every data directory of the session, on every xdist worker, shares dbt's parse
    (KPI_DBT_PARSE_CACHE), so that a new one copies it instead of parsing everything again."""
    factory = session.config._tmp_path_factory  # the tmp_path_factory fixture's
    # xdist's worker_id fixture, read where a run without xdist (-p no:xdist) has none
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "master")
    shared = _shared_dir(factory, worker_id)
    os.environ["KPI_DBT_PARSE_CACHE"] = str(shared / "dbt-parse-cache")
    os.environ["KPI_DATA_DIR"] = str(factory.getbasetemp() / "code-location" / "data")


def unconfigured_env(data_dir: Path) -> dict[str, str]:
    """The environment of a user who set nothing but ``KPI_DATA_DIR``, for a ``kpi`` process:
    no other KPI_ or DAGSTER_ variable but the session's shared dbt parse (not a setting of the
    shop, only where its parse comes from)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPI_", "DAGSTER_"))}
    return env | {
        "KPI_DATA_DIR": str(data_dir),
        "KPI_DBT_PARSE_CACHE": os.environ["KPI_DBT_PARSE_CACHE"],
    }


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    """Point KPI_DATA_DIR (and Dagster's home) at a fresh directory for each test."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("KPI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return data_dir


def _shared_dir(tmp_path_factory, worker_id: str) -> Path:
    """A folder every xdist worker of this session shares (the session's own without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def _built_once(tmp_path_factory, worker_id, name: str, build):
    """The Settings of the data directory ``<session>/<name>/data``, which ``build(settings)``
    fills once per test session: the first worker to need it builds it, the others wait for it.
    Tests only read it (copy it to change it)."""
    from dagster_project.core.settings import Settings

    shared = _shared_dir(tmp_path_factory, worker_id)
    data_dir = shared / name / "data"
    built, failed = shared / name / "built", shared / name / "failed"
    built.parent.mkdir(exist_ok=True)
    with (shared / f"{name}.lock").open("a") as lock, pytest.MonkeyPatch.context() as env:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        assert not failed.exists(), f"building {name} failed on another worker: {failed}"
        env.setenv("KPI_DATA_DIR", str(data_dir))
        env.delenv("DAGSTER_HOME", raising=False)
        settings = Settings.from_env()
        if not built.exists():
            try:
                build(settings)
            except BaseException:
                failed.touch()
                raise
            built.touch()
    return settings


def _copy(data_dir: Path, tmp_path: Path, monkeypatch):
    from dagster_project.core.settings import Settings

    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    monkeypatch.setenv("KPI_DATA_DIR", str(copy))
    return Settings.from_env()


DEMO_SUMMARY = "summary.pickle"  # the generator's summary, beside the demo landing's data


@pytest.fixture(scope="session")
def demo(tmp_path_factory, worker_id):
    """The `make run` demo shop's landing zone (demo_shop.truths.DEMO) and what the generator
    reported, generated once per test session (~16 s): tests only read it."""
    from demo_shop import generate
    from demo_shop.truths import DEMO

    def build(settings) -> None:
        summary = generate(settings.landing_dir, **asdict(DEMO))
        settings.data_dir.with_name(DEMO_SUMMARY).write_bytes(pickle.dumps(summary))

    settings = _built_once(tmp_path_factory, worker_id, "demo-landing", build)
    summary = settings.data_dir.with_name(DEMO_SUMMARY).read_bytes()
    return settings.landing_dir, pickle.loads(summary)


@pytest.fixture(scope="session")
def demo_pipeline(tmp_path_factory, worker_id, demo):
    """The `make run` demo, built once per test session: its landing zone (``demo``) ingested
    and modelled through Dagster. The Settings of its data directory; ``demo_copy`` for a
    copy to change."""

    def build(settings) -> None:
        import dagster as dg

        from dagster_project.core.partitions import range_tags
        from dagster_project.definitions import defs
        from dagster_project.ingest.landing_days import delivered_days

        shutil.copytree(demo[0], settings.landing_dir)
        days = delivered_days(settings.landing_dir)
        result = defs.resolve_job_def("refresh").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            tags=range_tags(days[0], days[-1]),
        )
        assert result.success, "the demo refresh failed"

    return _built_once(tmp_path_factory, worker_id, "demo", build)


@pytest.fixture(scope="session")
def semantic_manifest(tmp_path_factory, worker_id) -> Path:
    """dbt's semantic manifest (the metric definitions), parsed once per test session."""
    from dagster_project.serve.metrics import semantic_manifest_path

    settings = _built_once(tmp_path_factory, worker_id, "dbt-parse", semantic_manifest_path)
    return semantic_manifest_path(settings)


@pytest.fixture
def demo_copy(demo_pipeline, tmp_path, monkeypatch):
    """A private copy of the demo's data directory, safe to refresh and publish again."""
    return _copy(demo_pipeline.data_dir, tmp_path, monkeypatch)


# The smallest shop a refresh publishes: 7 days of 100 sessions, with a late file, a
# re-delivery, a product version dated back and a customer's new tier (tests/deliveries.py).
SMALL_SHOP = DemoSize(days=7, sessions_per_day=100, seed=11)
SMALL_SHOP_REFRESH_OUTPUT = "refresh-verbose.out"  # beside its data directory


@pytest.fixture(scope="session")
def small_shop(tmp_path_factory, worker_id):
    """The Settings of SMALL_SHOP's data directory after a full ``kpi refresh --verbose``
    (its output in SMALL_SHOP_REFRESH_OUTPUT beside it), built once per test session."""

    def build(settings) -> None:
        from click.testing import CliRunner

        from dagster_project.cli import main
        from demo_shop import generate
        from tests.deliveries import deliver_late_changes

        generate(settings.landing_dir, **asdict(SMALL_SHOP))
        deliver_late_changes(settings.landing_dir, SMALL_SHOP.start, SMALL_SHOP.days)
        result = CliRunner().invoke(main, ["refresh", "--verbose"])
        settings.data_dir.parent.joinpath(SMALL_SHOP_REFRESH_OUTPUT).write_text(result.output)
        assert result.exit_code == 0, result.output[-3000:]

    return _built_once(tmp_path_factory, worker_id, "small-shop", build)


@pytest.fixture
def small_shop_copy(small_shop, tmp_path, monkeypatch):
    """A private copy of the small shop's data directory, safe to refresh and publish again."""
    return _copy(small_shop.data_dir, tmp_path, monkeypatch)


# `make test` runs two xdist workers (pyproject addopts: --dist=loadfile --no-loadscope-reorder),
# each taking whole files in collection order: the longest files start first, so that neither
# worker is left with one at the end. The two files that share the crash history
# (tests/reliability/crash_helpers.shared_history, built once per process) form one unit, so
# that the history is built once, not once on each worker. (xdist's --dist=loadgroup would do
# this with a marker, but does not group under pytest 9: it renames `item._nodeid`, which
# pytest 9 no longer reads.)
SHARED_HISTORY = (
    "reliability/test_crash_safety.py",
    "reliability/test_readers_and_idempotency.py",
)
LONGEST_FIRST = (*SHARED_HISTORY, "orchestration/test_nightly.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        path = item.path.as_posix()
        return next(
            (n for n, f in enumerate(LONGEST_FIRST) if path.endswith(f)), len(LONGEST_FIRST)
        )

    items.sort(key=rank)


@pytest.hookimpl(optionalhook=True)  # a run without xdist (-p no:xdist) has no such hook
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None  # another --dist asked for on the command line: xdist's own scheduler
    from xdist.scheduler import LoadFileScheduling

    class SharedHistoryOnOneWorker(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return SHARED_HISTORY[0] if path.endswith(SHARED_HISTORY) else path

    return SharedHistoryOnOneWorker(config, log)
