"""The gate's verdict for a run, read from the check evaluations Dagster recorded for it."""

import dagster as dg
import duckdb
from dagster_shared.error import SerializableErrorInfo  # a step's error, as Dagster stores it

from dagster_project.core.alerts import send_alert
from dagster_project.core.settings import Settings
from dagster_project.publish.publication import GateResult, record_blocked


def stopped_by_a_blocking_check(error: SerializableErrorInfo | None) -> bool:
    """Whether a step failed only because a blocking check it ran failed (Dagster's error,
    whose message names the checks but not what they found)."""
    return error is not None and error.cls_name == "DagsterAssetCheckFailedError"


def check_label(evaluation: dg.AssetCheckEvaluation) -> str:
    return f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"


def _failing_rows(evaluation: dg.AssetCheckEvaluation) -> str | None:
    """What a dbt test found: dagster-dbt records its failing rows, not a description."""
    count = evaluation.metadata.get("dagster_dbt/failed_row_count")
    return None if count is None else f"{count.value:,} failing rows (dbt test)"


def gate_for_run(instance: dg.DagsterInstance, run_id: str) -> GateResult:
    """Checks that passed, the blocking (ERROR severity) checks that failed, and those that
    failed at WARN severity (reported, never blocking), each with what it found."""
    passed, failed, warnings, reasons = 0, set(), set(), {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.get_dagster_event().event_specific_data
        if evaluation.passed:
            passed += 1
            continue
        label = check_label(evaluation)
        (failed if evaluation.severity == dg.AssetCheckSeverity.ERROR else warnings).add(label)
        reason = evaluation.description or _failing_rows(evaluation)
        if reason:
            reasons[label] = reason
    return GateResult(
        checks_passed=passed,
        failed_checks=sorted(failed),
        warnings=sorted(warnings - failed),
        reasons=reasons,
    )


PUBLISHED_KEY = dg.AssetKey(["published", "kpi_mart"])


def failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Each failed step with the lines of its error that say what failed (dbt lists them)."""
    failures = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.get_dagster_event()
        error = event.event_specific_data.error
        if stopped_by_a_blocking_check(error):
            continue  # a blocking check failed: the gate names the check and what it found
        text = error.message if error else ""
        if error and error.cause:
            text += "\n" + error.cause.message
        details = [
            " ".join(line.split()[3:]).split(" [")[0]
            for line in text.splitlines()
            if " FAIL " in line or " ERROR " in line
        ]
        if not details and error:  # not dbt: the innermost error says what went wrong
            while error.cause:
                error = error.cause
            details = error.message.strip().splitlines()[-1:]
        failures.append(
            event.step_key + (f" ({'; '.join(sorted(set(details)))})" if details else "")
        )
    return sorted(failures)


def published_as_of(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The as-of business date of the run's publication; None when it published nothing."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        event = record.get_dagster_event()
        if event.asset_key == PUBLISHED_KEY:
            return event.event_specific_data.materialization.metadata["as_of_date"].value
    return None


def was_published(instance: dg.DagsterInstance, run_id: str) -> bool:
    return published_as_of(instance, run_id) is not None


def conclude(
    instance: dg.DagsterInstance,
    run_id: str,
    settings: Settings,
    gate: GateResult | None = None,
) -> list[str]:
    """After a refresh run: nothing when it published, else why not, a line per failing check
    or step (also logged in the build and alerted).

    The published files are never touched here: a refused build only adds a `blocked` row to
    the build's publication log.
    """
    if was_published(instance, run_id):
        return []
    gate = gate or gate_for_run(instance, run_id)
    problems = gate.explained(gate.failed_checks)
    problems += [f"step {step} failed" for step in failed_steps(instance, run_id)]
    problems = problems or ["the run did not reach publish"]
    message = "publication blocked: " + "; ".join(problems)
    if settings.build_db.exists():
        try:
            record_blocked(settings, run_id, gate, message)
        except (duckdb.Error, OSError) as error:
            message += f" (and it could not be logged in the build warehouse: {error})"
    send_alert("publication_blocked", message, run_id=run_id, failed_checks=gate.failed_checks)
    return problems
