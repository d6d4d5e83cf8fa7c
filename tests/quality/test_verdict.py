"""The gate's verdict is what Dagster recorded for a run's check evaluations (ERROR = blocks);
what `kpi refresh` prints and the alerts are read from it."""

import json
import logging
from collections import Counter

import dagster as dg
import pytest

from dagster_project.cli.console import ProgressPrinter
from dagster_project.core.settings import Settings
from dagster_project.quality.verdict import (
    PUBLISHED_KEY,
    Outcome,
    conclude,
    outcome,
    reason,
    verdict_for_run,
)

RAW = dg.AssetKey(["raw", "orders"])


def _run(contract_blocks: bool) -> tuple[dg.DagsterInstance, str]:
    """A refresh in miniature: a raw asset with a blocking check (failing at ERROR when
    ``contract_blocks``), one that warns and one that passes, then the publication."""

    @dg.asset(key=RAW)
    def orders() -> None:
        return None

    @dg.asset_check(asset=RAW, name="contract", blocking=True)
    def contract() -> dg.AssetCheckResult:
        if contract_blocks:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description="landing/orders/dt=2025-06-07/a.csv: missing_column",
            )
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=RAW, name="orphans")
    def orphans() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, description="3 orphan rows"
        )

    @dg.asset_check(asset=RAW, name="volume")
    def volume() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset(key=PUBLISHED_KEY, deps=[RAW])
    def publication() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"as_of_date": "2025-06-07"})

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [orders, publication, contract, orphans, volume], instance=instance, raise_on_error=False
    )
    return instance, result.run_id


def test_a_blocking_check_that_failed_blocks_and_a_warning_is_named():
    instance, run_id = _run(contract_blocks=True)
    verdict = verdict_for_run(instance, run_id)
    assert verdict.blocked == ["raw/orders:contract"]
    assert verdict.warnings == ["raw/orders:orphans"]
    assert verdict.checks_passed == 1
    assert not verdict.published
    assert verdict.problems == [
        "raw/orders:contract: landing/orders/dt=2025-06-07/a.csv: missing_column"
    ]
    assert verdict.warning_lines == ["raw/orders:orphans: 3 orphan rows"]


def test_a_run_whose_blocking_checks_passed_publishes_with_its_warnings():
    instance, run_id = _run(contract_blocks=False)
    verdict = verdict_for_run(instance, run_id)
    assert (verdict.blocked, verdict.warnings, verdict.checks_passed) == (
        [],
        ["raw/orders:orphans"],
        2,
    )
    assert verdict.published and verdict.published_as_of == "2025-06-07"
    assert verdict.problems == []


@pytest.mark.parametrize("contract_blocks", [True, False])
def test_conclude_alerts_only_a_refused_build(contract_blocks, caplog):
    instance, run_id = _run(contract_blocks)
    with caplog.at_level(logging.ERROR, logger="kpi.alerts"):
        verdict = conclude(instance, run_id, Settings.from_env())
    alerts = [json.loads(r.getMessage()) for r in caplog.records if r.name == "kpi.alerts"]
    if not contract_blocks:
        assert verdict.published and alerts == []
        return
    (alert,) = alerts
    assert alert["event"] == "publication_blocked"
    assert alert["failed_checks"] == ["raw/orders:contract"]
    assert alert["message"] == "publication blocked: " + "; ".join(verdict.problems)


def test_the_console_shows_what_the_verdict_says():
    """The progress lines count and name each check by its outcome in the verdict."""
    instance, run_id = _run(contract_blocks=True)
    lines: list[str] = []
    printer = ProgressPrinter(lines.append)
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        record = logging.LogRecord("kpi", logging.INFO, "", 0, "", None, None)
        record.dagster_meta = {"dagster_event": entry.dagster_event}
        printer.handle(record)
    verdict = verdict_for_run(instance, run_id)
    blocks = [line.split("BLOCKS", 1)[1].strip() for line in lines if "BLOCKS" in line]
    assert blocks == verdict.problems
    counts = sum(printer.counts.values(), start=Counter())
    assert counts[Outcome.BLOCKED] == len(verdict.blocked)
    assert counts[Outcome.WARNED] == len(verdict.warnings)
    assert counts[Outcome.PASSED] == verdict.checks_passed


def test_a_dbt_test_says_how_many_rows_failed():
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["marts", "fct_orders"]),
        check_name="unique_written_fct_orders_order_id",
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"dagster_dbt/failed_row_count": dg.MetadataValue.int(1234)},
    )
    assert outcome(evaluation) == Outcome.BLOCKED
    assert reason(evaluation) == "1,234 failing rows (dbt test)"
