"""The `kpi` command line (and the demo shop's `kpi-demo`) as a user meets it: help, status,
and clear errors."""

import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.core import warehouse
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.ingest.loader import TableLoader
from demo_shop.cli import main as demo_main
from tests.ingest.helpers import ITEMS_HEADER, deliver


@pytest.mark.parametrize(
    ("cli", "command"),
    [
        (main, []),
        (main, ["refresh"]),
        (main, ["status"]),
        (main, ["ui"]),
        (main, ["import", "olist"]),
        (main, ["query"]),
        (main, ["metrics"]),
        (demo_main, []),
    ],
)
def test_every_command_has_help(cli, command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_status_before_anything_was_loaded(isolated_data_dir):
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0
    assert "nothing loaded yet" in result.output


def test_status_lists_tables_in_contract_order_with_failures(isolated_data_dir):
    settings = Settings.from_env()
    deliver(settings.landing_dir, "order_items", "a.csv", f"{ITEMS_HEADER}\nO1,1,P1,2,1.00,0\n")
    deliver(settings.landing_dir, "order_items", "b.csv", "order_id\nO2\n")
    with warehouse.connect(settings) as con:
        for table in contract.tables().values():
            TableLoader(con, settings.landing_dir, table).load()
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    rows = [line.split()[0] for line in result.output.splitlines()[3:20]]
    assert rows == list(contract.tables())
    assert "b.csv: missing_column" in result.output
    by_day = CliRunner().invoke(main, ["status", "--table", "order_items"])
    assert "2025-06-01" in by_day.output


@pytest.mark.parametrize(
    ("cli", "arguments", "message"),
    [
        (demo_main, ["--days", "3"], "3 is not in the range x>=7"),
        (demo_main, ["--start", "June"], "is not a YYYY-MM-DD date"),
        (demo_main, ["--defects", "nope"], "unknown defect(s) ['nope']"),
        (main, ["status", "--table", "nope"], "unknown table 'nope'"),
        (main, ["refresh", "--from", "2025-06-01"], "--from and --to go together"),
        (main, ["refresh", "--from", "2025-06-09", "--to", "2025-06-01"], "is after --to"),
        (main, ["refresh", "--date", "2023-12-31"], "before the first business day"),
        (main, ["refresh", "--date", "2099-01-01"], "is not over yet"),
        (main, ["refresh", "--date", "June"], "does not match the format"),
    ],
)
def test_bad_arguments_get_a_clear_error(isolated_data_dir, cli, arguments, message):
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code != 0
    assert message in result.output


def test_the_demo_if_empty_leaves_an_existing_landing_zone_alone(isolated_data_dir):
    settings = Settings.from_env()
    deliver(settings.landing_dir, "orders", "mine.csv", "order_id\n")
    result = CliRunner().invoke(demo_main, ["--if-empty"])
    assert result.exit_code == 0
    assert "not generating" in result.output
    assert [p.name for p in settings.landing_dir.rglob("*.csv")] == ["mine.csv"]
