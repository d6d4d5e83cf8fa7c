"""Run a Great Expectations suite (a JSON file in ``expectations/``) on a DataFrame.

GX 1.x has no working DuckDB datasource, so the audit fetches exactly what it vouches for
(a published table, or a small frame of volumes, shifts or reconciliations) read-only from
DuckDB into pandas and validates that. GX is imported lazily: the import alone takes seconds.

The suites declare no severity: the runner gives each expectation the one ``policy.yml`` says
(GX's ``critical`` blocks, ``warning`` only warns).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from dagster_project.core.settings import EXPECTATIONS_DIR
from dagster_project.quality.policy import GX_SEVERITY, Policy, current

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Failure:
    expectation: str
    kwargs: dict[str, Any]
    severity: str  # GX's: critical (blocks) | warning (the policy's block | warn)
    observed: Any
    unexpected_count: int | None
    sample: list[Any]


@dataclass
class SuiteOutcome:
    suite: str
    target: str
    evaluated: int = 0
    failures: list[Failure] = field(default_factory=list)
    skipped: str | None = None  # why the suite did not apply (e.g. its source is absent)

    @property
    def blocking(self) -> bool:
        return any(f.severity == "critical" for f in self.failures)

    @property
    def passed(self) -> bool:
        return not self.failures


@cache
def suite_definition(name: str) -> dict[str, Any]:
    """The suite as stored: ``expectations/<name>.json``."""
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def suite_names() -> list[str]:
    return sorted(path.stem for path in EXPECTATIONS_DIR.glob("*.json"))


def with_severities(name: str, policy: Policy) -> list[dict[str, Any]]:
    """The suite's expectations as stored, each with the severity the policy gives it."""
    return [
        expectation | {"severity": GX_SEVERITY[policy.expectation_severity(name, expectation)]}
        for expectation in suite_definition(name)["expectations"]
    ]


class Auditor:
    """One ephemeral GX context for a run; Data Docs are written under ``docs_dir``; each
    expectation's severity comes from ``policy`` (default: policy.yml)."""

    def __init__(self, docs_dir: Path, policy: Policy | None = None):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self.docs_dir = docs_dir
        self.policy = policy or current()
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._context.add_data_docs_site(
            site_name="audit",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        self._frames = self._context.data_sources.add_pandas("audit_frames")
        self._suites: dict[str, Any] = {}

    def _suite(self, name: str) -> Any:
        if name not in self._suites:
            stored = suite_definition(name)
            suite = self._gx.ExpectationSuite(
                name=name,
                expectations=with_severities(name, self.policy),
                meta=stored.get("meta", {}),
            )
            self._suites[name] = self._context.suites.add(suite)
        return self._suites[name]

    def build_docs(self) -> None:
        """Render the Data Docs of every validation so far (once: each render redoes the
        whole site, so rendering after each validation costs quadratic time)."""
        self._context.build_data_docs(site_names=["audit"])

    def validate(self, suite_name: str, target: str, frame: pd.DataFrame) -> SuiteOutcome:
        """Validate ``frame`` (what ``target`` publishes or measures) against the suite."""
        suite = self._suite(suite_name)
        asset = self._frames.add_dataframe_asset(target)
        batch = asset.add_batch_definition_whole_dataframe(target)
        definition = self._context.validation_definitions.add(
            self._gx.ValidationDefinition(name=target, data=batch, suite=suite)
        )
        # BASIC: the observed value, the unexpected count and a sample, what a failure reports;
        # without SUMMARY's value counts and without a Checkpoint around one definition, an
        # audit validates in about 60 % of the time (its results are stored for Data Docs
        # all the same)
        validation = definition.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "BASIC", "partial_unexpected_count": SAMPLE_ROWS},
        )
        outcome = SuiteOutcome(suite_name, target)
        for expectation in validation.results:
            outcome.evaluated += 1
            if expectation.success:
                continue
            config = expectation.expectation_config
            details = expectation.result or {}
            outcome.failures.append(
                Failure(
                    expectation=config.type,
                    kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
                    severity=str(getattr(config.severity, "value", config.severity)),
                    observed=details.get("observed_value"),
                    unexpected_count=details.get("unexpected_count"),
                    sample=list(details.get("partial_unexpected_list") or [])[:SAMPLE_ROWS],
                )
            )
        return outcome
