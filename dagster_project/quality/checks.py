"""The audit as blocking Dagster asset checks: every suite vouches for the asset it is about.

One multi-asset check evaluates all suites in a single step (one GX import, one read-only
connection). A failed expectation that blocks (policy.yml, great_expectations) fails its check
at ERROR severity, which stops publication; one that only warns fails it at WARN, reported only.
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from dagster_project.core.resources import WarehouseResource
from dagster_project.ingest.loader import absent_sources
from dagster_project.quality.frames import AuditTarget, targets
from dagster_project.quality.policy import dagster_severity
from dagster_project.quality.validate import Auditor, Failure, SuiteOutcome, suite_definition


def _markdown(outcome: SuiteOutcome) -> str:
    if outcome.skipped:
        return f"skipped: {outcome.skipped}"
    if outcome.passed:
        return f"all {outcome.evaluated} expectations met"
    lines = [
        "| expectation | severity | arguments | observed | unexpected | sample |",
        "|---|---|---|---|---|---|",
    ]
    for failure in outcome.failures:
        kwargs = ", ".join(f"{k}={v}" for k, v in failure.kwargs.items())
        lines.append(
            f"| {failure.expectation} | {failure.severity} | {kwargs} | {failure.observed} "
            f"| {failure.unexpected_count} | {failure.sample} |"
        )
    return "\n".join(lines)


def _finding(failure: Failure) -> str:
    """One failed expectation in a line: what it expects of which column, and what it saw."""
    column = failure.kwargs.get("column")
    bounds = {k: failure.kwargs[k] for k in ("min_value", "max_value") if k in failure.kwargs}
    text = failure.expectation + (f" {column}" if column else "")
    if bounds:
        text += f" in [{bounds.get('min_value', '')}, {bounds.get('max_value', '')}]"
    if failure.unexpected_count:
        sample = ", ".join(map(str, failure.sample[:3]))
        text += f": {failure.unexpected_count:,} unexpected rows"
        text += f" (e.g. {sample})" if sample else ""
    elif failure.observed is not None:
        text += f": observed {failure.observed}"
    return text


def _description(outcome: SuiteOutcome) -> str | None:
    if outcome.passed:
        return None
    shown = [_finding(failure) for failure in outcome.failures[:3]]
    more = len(outcome.failures) - len(shown)
    return f"{outcome.suite}: " + "; ".join(shown) + (f"; and {more} more" if more else "")


def _result(
    target: AuditTarget, outcome: SuiteOutcome, frame: pd.DataFrame | None, docs: str
) -> dg.AssetCheckResult:
    metadata: dict = {
        "suite": f"expectations/{target.suite}.json",
        "target": target.name,
        "expectations_evaluated": outcome.evaluated,
        "expectations_failed": len(outcome.failures),
        "result": dg.MetadataValue.md(_markdown(outcome)),
        "data_docs": dg.MetadataValue.path(docs),
    }
    if frame is not None and not outcome.passed and len(frame) <= 100:
        metadata["frame"] = dg.MetadataValue.text(frame.head(20).to_string(index=False))
    return dg.AssetCheckResult(
        asset_key=target.asset,
        check_name=target.check_name,
        passed=outcome.passed,
        severity=dagster_severity("block" if outcome.blocking else "warn"),
        description=_description(outcome),
        metadata=metadata,
    )


def _multi_check(name: str, audit_targets: list[AuditTarget]) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            name=target.check_name,
            asset=target.asset,
            blocking=True,
            description=suite_definition(target.suite)["meta"]["description"],
        )
        for target in audit_targets
    ]

    @dg.multi_asset_check(specs=specs, name=name, can_subset=True)
    def audit(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        """Great Expectations suites from `expectations/` on what the run will publish."""
        settings = warehouse.settings()
        docs_dir = settings.data_docs_dir(context.run.run_id)
        auditor = Auditor(docs_dir)
        selected = context.selected_asset_check_keys
        with warehouse.connect(read_only=True) as con:
            absent = set(absent_sources(con))
            for target in audit_targets:
                if dg.AssetCheckKey(target.asset, target.check_name) not in selected:
                    continue
                required = suite_definition(target.suite)["meta"].get("requires_sources", [])
                missing = sorted(absent.intersection(required))
                frame = None
                if missing:
                    outcome = SuiteOutcome(
                        target.suite, target.name, skipped=f"source(s) absent: {', '.join(missing)}"
                    )
                else:
                    frame = target.frame(con)
                    outcome = auditor.validate(target.suite, target.name, frame)
                yield _result(target, outcome, frame, str(docs_dir / "index.html"))
        auditor.build_docs()

    return audit


def audit_checks(published_tables: list[str]) -> list[dg.AssetChecksDefinition]:
    """Two steps: the raw volumes, which gate the dbt build, then everything dbt built.

    One step for both would make each wait for the other (the raw checks are blocking, so dbt
    waits for them; the mart checks need dbt), and Dagster would split the dbt build in two.
    """
    audit_targets = targets(published_tables)
    raw = [t for t in audit_targets if t.asset.path[0] == "raw"]
    built = [t for t in audit_targets if t.asset.path[0] != "raw"]
    return [_multi_check("audit_raw", raw), _multi_check("audit", built)]
