"""The gate's verdict on a run: what Dagster recorded for the run's check evaluations.

A check that failed at ERROR severity blocks publication, one that failed at WARN only warns;
each check records the severity ``policy.yml`` gives its kind. Dagster acts on it: a blocking
check that fails stops the steps after it, publication among them. Everything that reports a
run's outcome or acts on it reads it from here instead of judging again: ``kpi refresh`` (its
progress lines, its summary and its exit code), the publication step, and the alerts of a
refused build (``conclude``).
"""

from dataclasses import dataclass, field
from enum import StrEnum

import dagster as dg
import duckdb
from dagster_shared.error import SerializableErrorInfo  # a step's error, as Dagster stores it

from dagster_project.core.alerts import send_alert
from dagster_project.core.settings import Settings
from dagster_project.publish.publication import GateResult, record_blocked

PUBLISHED_KEY = dg.AssetKey(["published", "kpi_mart"])


class Outcome(StrEnum):
    PASSED = "passed"
    WARNED = "warned"  # failed at WARN severity: reported, never blocking
    BLOCKED = "blocked"  # failed at ERROR severity: the build is not published


def outcome(evaluation: dg.AssetCheckEvaluation) -> Outcome:
    if evaluation.passed:
        return Outcome.PASSED
    if evaluation.severity == dg.AssetCheckSeverity.ERROR:
        return Outcome.BLOCKED
    return Outcome.WARNED


def check_label(evaluation: dg.AssetCheckEvaluation) -> str:
    return f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"


def reason(evaluation: dg.AssetCheckEvaluation) -> str | None:
    """What a failed check found: its description, or the failing rows dagster-dbt records for
    a dbt test (which has no description)."""
    if evaluation.description:
        return evaluation.description
    count = evaluation.metadata.get("dagster_dbt/failed_row_count")
    return None if count is None else f"{count.value:,} failing rows (dbt test)"


def stopped_by_a_blocking_check(error: SerializableErrorInfo | None) -> bool:
    """Whether a step failed only because a blocking check it ran failed (Dagster's error,
    whose message names the checks but not what they found)."""
    return error is not None and error.cls_name == "DagsterAssetCheckFailedError"


@dataclass(frozen=True)
class Verdict(GateResult):
    """A run's verdict: the checks that passed, blocked and warned (with what each found), the
    steps that failed for another reason, and whether the run published."""

    run_id: str = ""
    failed_steps: list[str] = field(default_factory=list)
    published_as_of: str | None = None  # the as-of date of its publication

    @property
    def blocked(self) -> list[str]:
        return self.failed_checks

    @property
    def published(self) -> bool:
        return self.published_as_of is not None

    @property
    def warning_lines(self) -> list[str]:
        return self.explained(self.warnings)

    @property
    def problems(self) -> list[str]:
        """Why the run did not publish, a line per blocking check or failed step; empty when it
        published."""
        if self.published:
            return []
        problems = self.explained(self.failed_checks)
        problems += [f"step {step} failed" for step in self.failed_steps]
        return problems or ["the run did not reach publish"]


def _failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Each failed step with the lines of its error that say what failed (dbt lists them)."""
    failures = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.get_dagster_event()
        error = event.event_specific_data.error
        if stopped_by_a_blocking_check(error):
            continue  # a blocking check failed: the verdict names the check and what it found
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


def _published_as_of(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The as-of date the run published, if it published: the publication's first
    materialization since the run started, when it is the run's (runs write one at a time).
    One index lookup: the run's own materializations number one per table and day, thousands
    in a range run."""
    run = instance.get_run_record_by_id(run_id)
    since = run.start_time if run is not None and run.start_time is not None else None
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=PUBLISHED_KEY, after_timestamp=since),
        limit=1,
        ascending=True,
    )
    for record in found.records:
        if record.run_id == run_id:
            return record.asset_materialization.metadata["as_of_date"].value
    return None


def verdict_for_run(instance: dg.DagsterInstance, run_id: str) -> Verdict:
    """The run's verdict, from the events Dagster recorded for it."""
    passed, blocked, warned, reasons = 0, set(), set(), {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.get_dagster_event().event_specific_data
        result = outcome(evaluation)
        if result == Outcome.PASSED:
            passed += 1
            continue
        label = check_label(evaluation)
        (blocked if result == Outcome.BLOCKED else warned).add(label)
        if found := reason(evaluation):
            reasons[label] = found
    return Verdict(
        checks_passed=passed,
        failed_checks=sorted(blocked),
        warnings=sorted(warned - blocked),
        reasons=reasons,
        run_id=run_id,
        failed_steps=_failed_steps(instance, run_id),
        published_as_of=_published_as_of(instance, run_id),
    )


def conclude(instance: dg.DagsterInstance, run_id: str, settings: Settings) -> Verdict:
    """After a refresh run: its verdict; when it did not publish, also why, logged in the build
    (a `blocked` row of its publication log; the published files are never touched) and
    alerted."""
    verdict = verdict_for_run(instance, run_id)
    if verdict.published:
        return verdict
    message = "publication blocked: " + "; ".join(verdict.problems)
    if settings.build_db.exists():
        try:
            record_blocked(settings, run_id, verdict, message)
        except (duckdb.Error, OSError) as error:
            message += f" (and it could not be logged in the build warehouse: {error})"
    send_alert("publication_blocked", message, run_id=run_id, failed_checks=verdict.blocked)
    return verdict
