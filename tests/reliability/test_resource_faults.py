"""Issue 8 §6, resource faults: a full disk or an unwritable data directory during ``kpi
refresh`` gives a clear error and leaves the published mart exactly as it was.

The fault is real, not mocked: the directory is put on its own tmpfs that is then filled to
the last byte, so every write the pipeline attempts there fails with ENOSPC, as on a full
disk. Mounting needs root with CAP_SYS_ADMIN (as here; CI runs as root in a similar
container); where mounting is not permitted the directory is made immutable with ``chattr +i``
instead (writes fail with EPERM, even for root), and where neither is, the test fails saying
so rather than passing without a fault. The published mart to protect is a private copy of the
session's small shop (tests/conftest.SMALL_SHOP), refreshed again for its last day.

Each test tallies ``resource faults (n) ...: tried N checks, passed N`` (listed at the end of
the run: tests/conftest.py, record_tally).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.core.settings import Settings
from dagster_project.publish.publication import published_path
from tests.conftest import SMALL_SHOP, sha256

KPI = str(Path(sys.executable).with_name("kpi"))
KPI_DEMO = str(Path(sys.executable).with_name("kpi-demo"))


# The small shop's last business day: the run goes through ingestion, dbt, the audit and
# publication all the same, in a fraction of the time a refresh of every day takes.
REFRESH = ["refresh", "--date", str(SMALL_SHOP.start + timedelta(days=SMALL_SHOP.days - 1))]
TIMEOUT_S = 1200
REASONS = {"tmpfs": "No space left on device", "chattr": "Operation not permitted"}


def _run(command: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    """``kpi <command>``, or a command of its own (``kpi-demo``) when the first word says so."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "KPI_ALERT_WEBHOOK")}
    program = [KPI_DEMO] if command[:1] == ["kpi-demo"] else [KPI, command[0]]
    return subprocess.run(
        [*program, *command[1:]],
        env=env | {"KPI_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def _succeeds(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True).returncode == 0
    except FileNotFoundError:  # the tool is not installed
        return False


def _mount_permitted(probe: Path) -> bool:
    probe.mkdir()
    try:
        mounted = _succeeds(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)])
        if mounted:
            subprocess.run(["umount", str(probe)], check=True)
        return mounted
    finally:
        probe.rmdir()


def _chattr(flag: str, paths: list[Path]) -> bool:
    return _succeeds(["chattr", flag, *map(str, paths)])


@contextmanager
def unwritable(directory: Path) -> Iterator[str]:
    """``directory`` with its files readable but no byte writable; yields how ('tmpfs' for a
    full file system, 'chattr' for an immutable directory)."""
    if _mount_permitted(directory.with_name(".mount-probe")):
        saved = directory.with_name(f"{directory.name}.saved")
        directory.rename(saved)
        directory.mkdir()
        size = sum(p.stat().st_size for p in saved.rglob("*") if p.is_file())
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size + (4 << 20)}", "tmpfs", str(directory)],
            check=True,
        )
        try:
            shutil.copytree(saved, directory, dirs_exist_ok=True)
            try:  # fill it to the last byte (creating the filler can already meet ENOSPC)
                with (directory / ".filler").open("wb") as filler:
                    while True:
                        filler.write(b"\0" * (1 << 16))
                        filler.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
            left = os.statvfs(directory)
            assert left.f_bavail * left.f_frsize < 1 << 16 or left.f_favail == 0, (
                f"{directory} is not full: {left.f_bavail * left.f_frsize} bytes and "
                f"{left.f_favail} inodes free"
            )
            yield "tmpfs"
        finally:
            subprocess.run(["umount", "--lazy", str(directory)], check=True)
            directory.rmdir()
            saved.rename(directory)
        return
    everything = [directory, *directory.rglob("*")]
    if not _chattr("+i", everything):
        pytest.fail(
            "cannot simulate the fault here: neither `mount -t tmpfs` nor `chattr +i` is "
            "permitted (run as root with CAP_SYS_ADMIN or CAP_LINUX_IMMUTABLE)"
        )
    try:
        yield "chattr"
    finally:
        _chattr("-i", everything)


def publication_state(settings: Settings) -> dict[str, object]:
    """What readers see: the mart's bytes and log, the Parquet files, the report."""
    files = {
        p.relative_to(settings.published_dir).as_posix(): sha256(p)
        for p in sorted(settings.published_dir.rglob("*"))
        if p.is_file() and p.name != ".filler"
    }
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        log = con.execute("select * from publication_log order by finished_at").fetchall()
    report = sha256(settings.report_file) if settings.report_file.exists() else None
    return {"files": files, "publication_log": log, "report": report}


Checks = dict[str, str | None]  # what was checked -> None when it held, else what was seen


def told_clearly(result: subprocess.CompletedProcess, **says: str) -> Checks:
    """How a failed command told its user: a non-zero exit, no Python traceback, and a final
    ``Error:`` message that says each of ``says`` (label -> text)."""
    output = result.stdout + result.stderr
    parts = re.split(r"(?m)^Error: ", result.stderr)
    message = parts[-1].strip() if len(parts) > 1 else ""
    last_line = output.rstrip().splitlines()[-1][:300] if output.strip() else ""
    checks: Checks = {
        "exits non-zero": None if result.returncode else "exit status 0",
        "no Python traceback": (
            f"crashed: {last_line}" if "Traceback (most recent call last)" in output else None
        ),
        "ends with an 'Error: ...' message": None if message else f"ends with: {last_line}",
    }
    for label, text in says.items():
        checks[f"the message names {label}"] = (
            None if text in message else f"{text!r} not in {message[:200]!r}"
        )
    return checks


def report(record_tally, case: str, how: str, checks: Checks) -> None:
    """Record the case's tally and fail it when a check did not hold."""
    failed = {name: seen for name, seen in checks.items() if seen is not None}
    record_tally(
        f"resource faults {case} ({how}): tried {len(checks)} checks, "
        f"passed {len(checks) - len(failed)}"
        + "".join(f"\n  FAILED {name}: {seen}" for name, seen in failed.items())
    )
    assert not failed, failed


def test_a_full_disk_under_the_warehouse_fails_the_refresh_clearly(small_shop_copy, record_tally):
    settings = small_shop_copy
    before = publication_state(settings)
    with unwritable(settings.warehouse_dir) as how:
        result = _run(REFRESH, settings.data_dir)
    checks = told_clearly(result, cause=REASONS[how], directory=str(settings.warehouse_dir))
    checks["the publication is unchanged"] = (
        None if publication_state(settings) == before else "it changed"
    )
    report(
        record_tally,
        "(1) warehouse unwritable during `kpi refresh`",
        f"{how}: its file system full",
        checks,
    )


def test_a_full_published_directory_fails_the_publication_clearly(small_shop_copy, record_tally):
    settings = small_shop_copy
    before = publication_state(settings)
    with unwritable(settings.published_dir) as how:
        result = _run(REFRESH, settings.data_dir)
        after = publication_state(settings)  # what readers see during the fault
        leftovers = [p.name for p in settings.published_dir.iterdir() if p.name.endswith(".tmp")]
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        logged = con.execute(
            "select outcome from audit.publication_log order by finished_at desc limit 1"
        ).fetchall()
    checks = {
        "the run got as far as publishing": (
            None if "published__kpi_mart" in result.stderr else "no publish step in the log"
        ),
        **told_clearly(result, cause=REASONS[how], directory=str(settings.published_dir)),
        "the publication is unchanged": None if after == before else "it changed",
        "no half-written publication is left": None if not leftovers else str(leftovers),
        "the build's publication log says blocked": (
            None if logged == [("blocked",)] else str(logged)
        ),
    }
    report(
        record_tally,
        "(2) published directory unwritable during publication",
        f"{how}: its file system full",
        checks,
    )


@pytest.mark.parametrize(
    "command",
    [["refresh"], ["status"], ["kpi-demo", "--days", "7", "--sessions-per-day", "200"]],
    ids=["refresh", "status", "kpi-demo"],
)
def test_a_data_directory_that_cannot_be_created_gives_a_clear_error(
    tmp_path, command, record_tally
):
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a directory\n")
    result = _run(command, blocker / "data")
    program = command[0] if command[0].startswith("kpi-") else f"kpi {command[0]}"
    checks = told_clearly(result, path=str(blocker), problem="Not a directory")
    report(
        record_tally,
        f"(3) KPI_DATA_DIR under a regular file: {program}",
        "NotADirectory",
        checks,
    )
