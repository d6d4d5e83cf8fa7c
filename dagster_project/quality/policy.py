"""The quality policy (``policy.yml`` beside this file): what blocks and what only warns.

Every check takes its severity from here: the raw contract check per kind of finding, the GX
runner per expectation, the freshness checks per kind, the anomaly checks to come by name. dbt
fixes its tests' severities when it parses the project, so those are declared in the dbt
project too, and a test holds the parsed manifest equal to :meth:`Policy.dbt_severity`
(``policy.yml`` says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import dagster as dg
import yaml

Severity = Literal["block", "warn"]
SEVERITIES: tuple[Severity, ...] = ("block", "warn")

# The kinds of finding of the raw `contract` check, each as its description says it.
CONTRACT_KINDS = {
    "failed_file": "a delivered file that failed to load",
    "unbalanced_file": "a file whose rows read differ from its rows loaded + rejected",
    "missing_day": "a day of the run without a file of a daily source (nor a "
    "landing/_SUCCESS/dt=<day> marker)",
    "rejected_share": "more than KPI_MAX_REJECTED_SHARE of the rows read rejected",
    "rejected_rows": "rejected rows up to KPI_MAX_REJECTED_SHARE",
    "orphan_foreign_key": "foreign keys that do not resolve in the raw layer (orphans are "
    "loaded: their parent may arrive later)",
}
FRESHNESS_KINDS = {
    "stale_source": "a daily source's newest rows were loaded more than KPI_FRESHNESS_HOURS ago",
    "stale_publication": "the publication readers see is older than KPI_FRESHNESS_HOURS",
}
# GX's names for the two severities (an expectation's `severity`).
GX_SEVERITY = {"block": "critical", "warn": "warning"}


class PolicyError(ValueError):
    """policy.yml names an unknown kind or severity, or lacks one."""


@dataclass(frozen=True)
class Threshold:
    env: str  # the environment variable that sets it
    default: float


@dataclass(frozen=True)
class ExpectationRule:
    """Expectations of a suite that take a severity: those of this type whose arguments
    include ``kwargs``."""

    expectation: str
    kwargs: Mapping[str, Any]

    def matches(self, expectation: Mapping[str, Any]) -> bool:
        arguments = expectation.get("kwargs", {})
        return expectation["type"] == self.expectation and all(
            key in arguments and arguments[key] == value for key, value in self.kwargs.items()
        )


@dataclass(frozen=True)
class Policy:
    contract: Mapping[str, Severity]
    contract_thresholds: Mapping[str, Threshold]
    dbt_default: Severity
    dbt_warn: Mapping[str, frozenset[str]]  # generic test (or "singular") -> its tests that warn
    gx_default: Severity
    gx_warn: Mapping[str, tuple[ExpectationRule, ...]]  # suite -> expectations that warn
    freshness: Mapping[str, Severity]
    freshness_thresholds: Mapping[str, Threshold]
    anomaly_default: Severity
    anomalies: Mapping[str, Severity]

    def contract_severity(self, kind: str) -> Severity:
        return self.contract[kind]

    def freshness_severity(self, kind: str) -> Severity:
        return self.freshness[kind]

    def anomaly_severity(self, check_name: str) -> Severity:
        return self.anomalies.get(check_name, self.anomaly_default)

    def expectation_severity(self, suite: str, expectation: Mapping[str, Any]) -> Severity:
        """The severity of one expectation of ``suite`` (as stored: type and kwargs)."""
        warns = any(rule.matches(expectation) for rule in self.gx_warn.get(suite, ()))
        return "warn" if warns else self.gx_default

    def dbt_severity(self, node: Mapping[str, Any]) -> Severity:
        """The severity of a dbt test, a node of the manifest (see ``dbt_test_id``)."""
        test, name = dbt_test_id(node)
        return "warn" if name in self.dbt_warn.get(test, ()) else self.dbt_default

    def contract_description(self) -> str:
        """What the contract check blocks and warns on, as the policy says."""
        parts = []
        for severity, verb in (("block", "Blocks publication on"), ("warn", "warns on")):
            kinds = [CONTRACT_KINDS[k] for k, s in self.contract.items() if s == severity]
            if kinds:
                parts.append(f"{verb} {_either(kinds)}")
        text = "; ".join(parts) + "."
        return text[0].upper() + text[1:]


def _either(items: list[str]) -> str:
    """``a, b or c``."""
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


def dbt_test_id(node: Mapping[str, Any]) -> tuple[str, str]:
    """How policy.yml names a dbt test (a node of the manifest): a generic test by its name and
    the model and column it tests (``relationships``, ``fct_orders.customer_id``), a singular
    test as ``singular`` and its name."""
    metadata = node.get("test_metadata") or {}
    if not metadata:
        return "singular", node["name"]
    model = (node.get("attached_node") or "").split(".")[-1]
    return metadata["name"], f"{model}.{metadata.get('kwargs', {}).get('column_name')}"


def dagster_severity(severity: Severity) -> dg.AssetCheckSeverity:
    """How a failed check of this severity is recorded: ERROR blocks, WARN does not."""
    return dg.AssetCheckSeverity.ERROR if severity == "block" else dg.AssetCheckSeverity.WARN


def _severity(value: object, where: str) -> Severity:
    if value not in SEVERITIES:
        raise PolicyError(f"{where}: {value!r} is not one of {', '.join(SEVERITIES)}")
    return value  # type: ignore[return-value]


def _severities(section: Mapping, kinds: Mapping[str, str], where: str) -> dict[str, Severity]:
    declared = section.get("severity") or {}
    unknown, missing = sorted(set(declared) - set(kinds)), sorted(set(kinds) - set(declared))
    if unknown or missing:
        raise PolicyError(f"{where}.severity: unknown {unknown}, missing {missing}")
    return {kind: _severity(declared[kind], f"{where}.severity.{kind}") for kind in kinds}


def _thresholds(section: Mapping, where: str) -> dict[str, Threshold]:
    return {
        name: Threshold(env=spec["env"], default=float(spec["default"]))
        for name, spec in (section.get("thresholds") or {}).items()
    }


def parse(text: str) -> Policy:
    """The policy of a policy.yml's text; raises PolicyError when it is not one."""
    data = yaml.safe_load(text) or {}
    sections = {"raw_contract", "dbt_tests", "great_expectations", "freshness", "anomalies"}
    if set(data) != sections:
        raise PolicyError(f"sections must be {sorted(sections)}, not {sorted(data)}")
    raw, dbt, gx = data["raw_contract"], data["dbt_tests"], data["great_expectations"]
    freshness, anomalies = data["freshness"], data["anomalies"]
    return Policy(
        contract=_severities(raw, CONTRACT_KINDS, "raw_contract"),
        contract_thresholds=_thresholds(raw, "raw_contract"),
        dbt_default=_severity(dbt.get("default"), "dbt_tests.default"),
        dbt_warn={test: frozenset(names) for test, names in (dbt.get("warn") or {}).items()},
        gx_default=_severity(gx.get("default"), "great_expectations.default"),
        gx_warn={
            suite: tuple(
                ExpectationRule(
                    rule["expectation"], {k: v for k, v in rule.items() if k != "expectation"}
                )
                for rule in rules
            )
            for suite, rules in (gx.get("warn") or {}).items()
        },
        freshness=_severities(freshness, FRESHNESS_KINDS, "freshness"),
        freshness_thresholds=_thresholds(freshness, "freshness"),
        anomaly_default=_severity(anomalies.get("default"), "anomalies.default"),
        anomalies={
            name: _severity(value, f"anomalies.checks.{name}")
            for name, value in (anomalies.get("checks") or {}).items()
        },
    )


def policy_text() -> str:
    return resources.files(__package__).joinpath("policy.yml").read_text(encoding="utf-8")


@cache
def current() -> Policy:
    """The policy in force: ``policy.yml``, read once per process."""
    return parse(policy_text())
