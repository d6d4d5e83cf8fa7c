"""The primary key of an incremental fact is checked over what the build wrote
(macros/tests/unique_written.sql): a key the build wrote that occurs twice in the table fails;
without a row of the build (the test run alone) every key is checked.

The test's SQL as dbt compiles it for fct_events runs here over hand-made rows, marked as
written by the compiling invocation or by an earlier one.
"""

import json
import re

import duckdb
import pytest

from tests.dbt_cli import run_dbt

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[str, str]:
    """(the test's compiled SQL, the invocation id it checks for)."""
    work = tmp_path_factory.mktemp("unique-written")
    data_dir = work / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    completed = run_dbt(
        work, "compile", "--select", "fct_events,test_name:unique_written", data_dir=data_dir
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    (sql,) = [
        node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("test_metadata", {}).get("name") == "unique_written"
        and node["attached_node"].endswith(".fct_events")
    ]
    invocation = manifest["metadata"]["invocation_id"]
    assert f"'{invocation}'" in sql
    # the compiled SQL names the warehouse's catalog; here the table sits in memory
    return re.sub(r'"build"\.', "", sql), invocation


def failures(sql: str, rows: list[tuple[str, str]]) -> list[tuple]:
    """The test's failing rows over a fct_events of (event_id, _dbt_invocation_id) rows."""
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_events (event_id varchar, _dbt_invocation_id varchar)")
        con.executemany("insert into marts.fct_events values (?, ?)", rows)
        return con.execute(sql).fetchall()


def test_a_written_key_that_is_already_in_the_table_fails(compiled):
    sql, this = compiled
    rows = [("E1", "earlier"), ("E2", "earlier"), ("E2", this), ("E3", this)]
    assert failures(sql, rows) == [("E2", 2)]


def test_written_keys_that_occur_once_pass(compiled):
    sql, this = compiled
    assert failures(sql, [("E1", "earlier"), ("E2", this), ("E3", this)]) == []


def test_without_a_row_of_the_build_every_key_is_checked(compiled):
    sql, _ = compiled
    rows = [("E1", "earlier"), ("E1", "earlier"), ("E2", "older")]
    assert failures(sql, rows) == [("E1", 2)]


def test_a_build_does_not_scan_for_keys_it_did_not_write(compiled):
    """Rows a build does not write are as the builds before it checked them: a duplicate among
    them only (here planted by hand) is for the test run alone to find, as above."""
    sql, this = compiled
    assert failures(sql, [("E1", "earlier"), ("E1", "earlier"), ("E2", this)]) == []
