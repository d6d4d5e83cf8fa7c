"""Every defect the generator can inject ends up rejected or flagged with the right reason."""

from datetime import date

import duckdb
import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.assets import evaluate_contract
from dagster_project.ingest.loader import TableLoader
from demo_shop import generate
from demo_shop.defects import DEFECTS


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A small shop with every defect, loaded once; yields (connection, outcomes by file)."""
    root = tmp_path_factory.mktemp("defects")
    landing = root / "landing"
    generate(landing, date(2025, 6, 1), 14, 200, seed=3, defects=list(DEFECTS))
    con = duckdb.connect(str(root / "build.duckdb"))
    con.execute("set TimeZone = 'UTC'")
    outcomes = {}
    for table in contract.tables().values():
        for outcome in TableLoader(con, landing, table, "test").load().outcomes:
            outcomes[outcome.source_file] = outcome
    yield con, outcomes
    con.close()


def _outcome(outcomes, defect):
    (outcome,) = [o for f, o in outcomes.items() if f.endswith(f"/{defect.file_name}")]
    return outcome


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_defect_has_its_declared_outcome(loaded, name):
    con, outcomes = loaded
    defect = DEFECTS[name]
    outcome = _outcome(outcomes, defect)
    if defect.file_problem:
        assert outcome.status == "failed"
        assert outcome.problem == defect.file_problem
        assert defect.file_name in outcome.message
        return
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected) == (
        defect.rows_in_file,
        defect.rows_loaded,
        defect.rows_rejected,
    )
    reasons = con.execute(
        "select distinct reason_code from raw._rejected_rows where source_file = $f",
        {"f": outcome.source_file},
    ).fetchall()
    assert reasons == ([(str(defect.row_reason),)] if defect.row_reason else [])
    if defect.flag == "empty_file":
        assert outcome.status == "empty"
    if defect.flag == "orphan_foreign_key":
        check = evaluate_contract(con, contract.table(defect.table), 0.01)
        assert not check.passed
        orphans = check.metadata["orphan_rows_by_column"].value
        assert orphans and set(orphans.values()) == {defect.rows_in_file}


def test_clean_files_load_without_a_single_reject_or_orphan(loaded):
    con, outcomes = loaded
    clean = {f: o for f, o in outcomes.items() if "/defect-" not in f}
    assert clean, "no clean files were delivered"
    assert {o.status for o in clean.values()} == {"loaded"}
    assert sum(o.rows_rejected for o in clean.values()) == 0
    orphan_tables = {d.table for d in DEFECTS.values() if d.flag == "orphan_foreign_key"}
    for table in contract.tables().values():
        if table.name not in orphan_tables:
            assert evaluate_contract(con, table, 0.01).metadata["orphan_rows_by_column"].value == {}


def test_nothing_is_dropped_silently(loaded):
    con, outcomes = loaded
    for table in contract.tables().values():
        check = evaluate_contract(con, table, 0.01)
        assert check.metadata["unbalanced_files"].value == [], table.name
    read = sum(o.rows_read for o in outcomes.values())
    kept = con.execute("select sum(rows_loaded + rows_rejected) from raw._load_manifest")
    assert kept.fetchall() == [(read,)]
