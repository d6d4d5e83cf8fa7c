"""Bad deliveries as a user meets them: `kpi refresh` and `kpi status` on a small shop.

The shop (tests/conftest.SMALL_SHOP, 7 days) is generated and refreshed once per test session;
each test copies its data directory, breaks the landing zone the way a source system would,
refreshes and checks what the user reads (the exit code, a last line naming the file and its
problem, `kpi status`) and that a refused build leaves the published mart byte for byte as it
was.
"""

import json
import logging
from datetime import timedelta

import duckdb
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from tests.conftest import SMALL_SHOP, SMALL_SHOP_REFRESH_OUTPUT, sha256

LAST = SMALL_SHOP.start + timedelta(days=SMALL_SHOP.days - 1)


def kpi(*arguments: str):
    return CliRunner().invoke(main, list(arguments))


@pytest.fixture
def shop(small_shop_copy) -> Settings:
    return small_shop_copy


def published(settings: Settings) -> str:
    return sha256(settings.published_dir / "kpi_mart.duckdb")


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1].strip()


def test_verbose_shows_dagsters_log_and_dbts_lines(small_shop):
    output = small_shop.data_dir.parent.joinpath(SMALL_SHOP_REFRESH_OUTPUT).read_text()
    assert " - dagster - INFO - refresh - " in output
    assert "Completed successfully" in output or "Completed with" in output  # dbt's summary
    assert " OK created sql table model " in output  # one of dbt's node lines


def test_an_empty_redelivery_is_refused_and_the_mart_stays(shop):
    before = published(shop)
    orders = shop.landing_dir / "orders" / f"dt={LAST}" / "orders.csv"
    orders.write_bytes(b"")
    result = kpi("refresh", "--date", str(LAST))
    assert result.exit_code == 1, result.output
    assert last_line(result).startswith(
        f"raw/orders:contract: landing/orders/dt={LAST}/orders.csv: shrunk_redelivery: holds 0 "
        "rows where the delivery it would replace"
    )
    assert published(shop) == before
    status = kpi("status").output
    assert f"landing/orders/dt={LAST}/orders.csv: shrunk_redelivery" in status
    assert "Traceback" not in result.output


def test_a_wrong_column_blocks_until_the_good_file_returns(shop, tmp_path):
    before = published(shop)
    orders = shop.landing_dir / "orders" / f"dt={LAST}" / "orders.csv"
    good = orders.read_bytes()
    orders.write_bytes(good.replace(b"status", b"state", 1))
    blocked = kpi("refresh", "--date", str(LAST))
    assert blocked.exit_code == 1
    assert last_line(blocked) == (
        f"raw/orders:contract: landing/orders/dt={LAST}/orders.csv: missing_column: missing "
        "required column(s) status (it has unexpected column(s) state)"
    )
    assert published(shop) == before
    assert "blocks publication" in kpi("status", "--table", "orders").output

    orders.write_bytes(good)  # the good file again: same bytes, a new modification time
    result = kpi("refresh", "--date", str(LAST))
    assert result.exit_code == 0, result.output
    assert published(shop) != before
    (orders_line,) = [line for line in result.output.splitlines() if " raw/orders " in line]
    assert orders_line.endswith("0 rejected · 1 failure cleared")
    assert "nothing in the raw layer blocks publication" in kpi("status").output
    _the_output_is_quiet(result.output, shop)


def _the_output_is_quiet(output: str, settings: Settings) -> None:
    """A line per raw table and stage, warnings counted and named, none of dbt's lines."""
    lines = output.strip().splitlines()
    ingest = [line.split()[1] for line in lines if line.startswith("ingest ")]
    assert sorted(ingest) == sorted(f"raw/{name}" for name in contract.tables())
    stages = [line.split()[0] for line in lines if line[:1].strip()]  # progress, unindented
    assert [stage for stage in stages if stage in ("transform", "publish", "report")] == [
        "transform",
        "publish",
        "report",
    ]
    assert not [line for line in lines if " OK created " in line or " - dagster - " in line]
    with duckdb.connect(str(settings.published_dir / "kpi_mart.duckdb"), read_only=True) as con:
        ((warnings,),) = con.execute(
            "select warnings from publication_log order by finished_at desc limit 1"
        ).fetchall()
    summary = next(line for line in lines if line.startswith("run ") and "published" in line)
    assert summary.endswith(f"checks passed, {len(warnings)} warnings")
    named = [line.removeprefix("  - ") for line in lines if line.startswith("  - ")]
    assert named == warnings
    report = settings.report_file.read_text(encoding="utf-8")
    assert f"<strong>{len(warnings)}</strong> warning" in report
    assert len(lines) <= len(contract.tables()) + len(warnings) + 15


def test_a_day_without_files_fails_loudly_and_the_mart_stays(shop, caplog):
    before = published(shop)
    day = LAST + timedelta(days=1)
    with caplog.at_level(logging.ERROR, logger="kpi.alerts"):
        result = kpi("refresh", "--date", str(day))
    assert result.exit_code == 1
    assert f"landing/sessions/dt={day}/: no file for business day {day}" in result.output
    assert f"landing/_SUCCESS/dt={day}" in last_line(result)
    (alert,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "kpi.alerts"]
    assert alert["event"] == "publication_blocked" and str(day) in alert["message"]
    assert published(shop) == before
