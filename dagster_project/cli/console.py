"""What ``kpi refresh`` prints: a line per stage and per raw table, and problems as they occur.

Dagster's console logger prints every event of a run (about 1,500 lines for the demo, and a
stack trace when a blocking check stops the build) and dbt prints every node. By default
``kpi refresh`` configures this logger instead, and tags the run so that the dbt step keeps
dbt's lines out of the terminal (they are in ``$KPI_DATA_DIR/dbt/target/build/dbt.log``).
``kpi refresh --verbose`` uses Dagster's console logger and shows dbt's lines. Runs started
by the daemon or the UI configure no logger: Dagster's default, and dbt's lines in the run's
captured output.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg

from dagster_project.quality.verdict import (
    Outcome,
    check_label,
    outcome,
    reason,
    stopped_by_a_blocking_check,
)

# A run tag: "quiet" keeps dbt's lines out of the process's standard output.
CONSOLE_TAG = "kpi/console"
QUIET = "quiet"
LOGGER = "kpi_console"

# Steps that stand for a stage of their own (their names are the definitions' names).
DBT_STEP = "dbt_models"
AUDIT_STEPS = {"audit_raw": "audit raw volumes", "audit": "audit built tables"}
_STAGE_WIDTH = 10
_SKIPPED = "Dependencies for step "  # Dagster's message for a step it does not execute
_TABLE_WIDTH = 28


def _meta(event: dg.DagsterEvent) -> dict[str, Any]:
    materialization = event.event_specific_data.materialization
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds:,.0f} s"


class ProgressPrinter:
    """Turns a run's log records into the few lines a user reads while it runs."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.started: dict[str, float] = {}
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.shown: set[dg.AssetKey] = set()

    def line(self, stage: str, text: str) -> None:
        self.write(f"{stage:<{_STAGE_WIDTH}} {text}")

    def handle(self, record: logging.LogRecord) -> None:
        meta: Mapping[str, Any] = getattr(record, "dagster_meta", None) or {}
        event: dg.DagsterEvent | None = meta.get("dagster_event")
        if event is None:
            # messages of the assets themselves: only what needs the user's eye (the steps a
            # blocking check stops are not: the summary says the build was blocked)
            message = meta.get("orig_message", record.getMessage())
            if record.levelno >= logging.WARNING and not message.startswith(_SKIPPED):
                label = "error" if record.levelno >= logging.ERROR else "warning"
                self.line("", f"{label}: {message}")
            return
        step = event.step_key or ""
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self.started[step] = record.created
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._materialized(step, event, record.created)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._evaluated(step, event.event_specific_data)
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            self._step_ended(step, event, record.created)

    def _elapsed(self, step: str, now: float) -> str:
        return _seconds(now - self.started.get(step, now))

    def _materialized(self, step: str, event: dg.DagsterEvent, now: float) -> None:
        key = event.asset_key
        if key in self.shown:
            return  # a run over several days materializes a raw table once per day
        self.shown.add(key)
        stage = key.path[0]
        if stage == "raw":
            m = _meta(event)
            if m["source_absent"]:
                detail = "no files ever delivered: source absent, its KPIs left out"
            else:
                files = "file " if m["files_total"] == 1 else "files"
                detail = (
                    f"{m['files_total']:>5,} {files} ({m['files_loaded']:,} new or changed, "
                    f"{m['files_failed']:,} failed) · {m['rows_loaded']:>10,} rows loaded, "
                    f"{m['rows_rejected']:,} rejected"
                )
                if cleared := m.get("failures_cleared"):
                    detail += f" · {cleared:,} failure{'s' if cleared > 1 else ''} cleared"
            self.line("ingest", f"{key.to_user_string():<{_TABLE_WIDTH}} {detail}")
        elif stage == "published":
            m = _meta(event)
            tables = len(m["rows_per_table"])
            self.line(
                "publish",
                f"{tables} tables as of {m['as_of_date']} to {m['path']}"
                f" ({self._elapsed(step, now)})",
            )
        elif stage == "reports":
            self.line("report", f"{_meta(event)['path']}")
        else:
            self.counts[step]["models"] += 1

    def _evaluated(self, step: str, evaluation: dg.AssetCheckEvaluation) -> None:
        """Counted by its outcome in the verdict; a blocking check shown with what it found."""
        result = outcome(evaluation)
        self.counts[step][result] += 1
        if result == Outcome.BLOCKED:
            self.line("", f"BLOCKS   {check_label(evaluation)}: {reason(evaluation) or 'failed'}")

    def _step_ended(self, step: str, event: dg.DagsterEvent, now: float) -> None:
        counts = self.counts[step]
        checks = (
            f"{counts[Outcome.PASSED]:,} passed, {counts[Outcome.WARNED]:,} warnings, "
            f"{counts[Outcome.BLOCKED]:,} blocking"
        )
        if step == DBT_STEP:
            self.line(
                "transform",
                f"dbt build: {counts['models']:,} models and seeds; tests {checks} "
                f"({self._elapsed(step, now)})",
            )
        elif step in AUDIT_STEPS:
            self.line("audit", f"{AUDIT_STEPS[step]}: suites {checks} ({self._elapsed(step, now)})")
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            if error is None or stopped_by_a_blocking_check(error):
                return  # the blocking check was shown when it was evaluated
            while error.cause:
                error = error.cause
            last = (error.message.strip().splitlines() or ["(no message)"])[-1]
            self.line("", f"FAILED   step {step}: {last}")


class _Handler(logging.Handler):
    def __init__(self, printer: ProgressPrinter):
        super().__init__(logging.DEBUG)
        self.printer = printer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.printer.handle(record)
        except Exception:  # a display problem must never fail the run
            self.handleError(record)


@dg.logger(description="kpi refresh's progress: a line per stage and per raw table.")
def kpi_console(_init_context: dg.InitLoggerContext) -> logging.Logger:
    # the terminal as the run starts: the dbt step redirects standard output while it runs
    terminal = sys.stdout
    logger = logging.Logger(LOGGER, level=logging.DEBUG)
    # flushed line by line: in a log file (`make run > log 2>&1`) the lines stay in order with
    # the alert and the error that kpi refresh writes to standard error
    logger.addHandler(
        _Handler(ProgressPrinter(lambda text: print(text, file=terminal, flush=True)))
    )
    return logger


def run_config(verbose: bool) -> dict:
    """The loggers of a ``kpi refresh`` run."""
    if verbose:
        return {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    return {"loggers": {LOGGER: {}}}


def run_tags(verbose: bool) -> dict[str, str]:
    return {} if verbose else {CONSOLE_TAG: QUIET}
