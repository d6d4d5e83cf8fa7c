"""policy.yml is the one place that says what blocks and what warns: every entry names a check
that exists, the tools that cannot read it (dbt) agree with it, and changing a severity in it
changes what a check records."""

import json
from dataclasses import replace

import dagster as dg
import pandas as pd
import pytest

from dagster_project.core.settings import DEFAULTS
from dagster_project.quality.freshness import build_freshness_checks
from dagster_project.quality.policy import (
    CONTRACT_KINDS,
    FRESHNESS_KINDS,
    PolicyError,
    current,
    dbt_test_id,
    parse,
    policy_text,
)
from dagster_project.quality.validate import Auditor, suite_definition, suite_names


def test_the_policy_covers_every_kind_with_a_known_severity():
    policy = current()
    assert set(policy.contract) == set(CONTRACT_KINDS)
    assert set(policy.freshness) == set(FRESHNESS_KINDS)
    assert {policy.dbt_default, policy.gx_default} == {"block"}
    # as before the policy: stale data and orphans warn, a failed file blocks
    assert policy.contract_severity("failed_file") == "block"
    assert policy.contract_severity("orphan_foreign_key") == "warn"
    assert set(policy.freshness.values()) == {"warn"}


def test_thresholds_name_their_variable_and_its_default():
    policy = current()
    thresholds = {**policy.contract_thresholds, **policy.freshness_thresholds}
    assert {name: t.env for name, t in thresholds.items()} == {
        "max_rejected_share": "KPI_MAX_REJECTED_SHARE",
        "max_age_hours": "KPI_FRESHNESS_HOURS",
    }
    for threshold in thresholds.values():
        assert threshold.default == float(DEFAULTS[threshold.env])


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("failed_file: block", "failed_file: maybe", "'maybe' is not one of block, warn"),
        ("failed_file: block", "failed_files: block", "unknown ['failed_files']"),
        ("stale_source: warn        #", "#", "missing ['stale_source']"),
    ],
)
def test_a_policy_with_an_unknown_kind_or_severity_is_refused(old, new, message):
    assert old in policy_text()
    with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(policy_text().replace(old, new, 1))


def test_each_expectation_that_warns_is_one_expectation_of_its_suite():
    policy = current()
    for suite, rules in policy.gx_warn.items():
        expectations = suite_definition(suite)["expectations"]
        for rule in rules:
            assert len([e for e in expectations if rule.matches(e)]) == 1, (suite, rule)


def test_the_suites_declare_no_severity_and_the_policy_gives_each_one():
    """19 expectations warn: the 17 the suites' `severity: warning` said before the policy, an
    empty kpi_suppliers_monthly (no purchase order received yet) and inventory turnover days
    above ten years (a slow category of a small shop)."""
    policy = current()
    severities = {"block": 0, "warn": 0}
    for suite in suite_names():
        for expectation in suite_definition(suite)["expectations"]:
            assert "severity" not in expectation, suite
            severities[policy.expectation_severity(suite, expectation)] += 1
    assert severities == {"block": 145, "warn": 19}


def _dbt_tests() -> list[dict]:
    from dagster_project.transform.assets import manifest

    nodes = json.loads(manifest.read_text())["nodes"].values()
    return [node for node in nodes if node["resource_type"] == "test"]


def _disagreements(policy) -> list[str]:
    """dbt tests whose parsed severity is not the policy's."""
    dbt = {"error": "block", "warn": "warn"}
    return sorted(
        node["unique_id"]
        for node in _dbt_tests()
        if dbt[node["config"]["severity"].lower()] != policy.dbt_severity(node)
    )


def test_the_dbt_tests_severities_are_the_policys():
    """dbt fixes severities when it parses (policy.yml says why they are declared in the dbt
    project too): the manifest Dagster loads must agree with the policy, test by test."""
    tests = _dbt_tests()
    assert len([t for t in tests if current().dbt_severity(t) == "warn"]) == 24
    assert _disagreements(current()) == []
    # every test the policy names is one test of the project
    ids = [dbt_test_id(node) for node in tests]
    for test, names in current().dbt_warn.items():
        for name in names:
            assert ids.count((test, name)) == 1, (test, name)


def test_a_dbt_test_the_policy_no_longer_lets_warn_is_caught():
    policy = current()
    stricter = replace(
        policy,
        dbt_warn={**policy.dbt_warn, "singular": frozenset()},
    )
    assert _disagreements(stricter) == ["test.ecommerce_kpi.assert_kpi_targets_have_actuals"]


def _surge() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "business_date": ["2025-06-29", "2025-06-30"],
            "row_count": [100.0, 160.0],
            "trailing_median": [100.0, 100.0],
            "ratio_to_median": [1.0, 1.6],
            "z_score": [0.5, 6.0],  # a surge beyond 4 standard deviations
            "days_behind": [0, 0],
        }
    )


def test_the_policy_decides_whether_an_expectation_blocks(tmp_path):
    """The same surge warns under policy.yml and blocks under a policy that lists no warning
    of volume_raw: the GX runner takes each expectation's severity from the policy."""
    policy = current()
    warned = Auditor(tmp_path / "a", policy).validate("volume_raw", "surge", _surge())
    assert not warned.passed and not warned.blocking
    assert [f.severity for f in warned.failures] == ["warning"]
    strict = replace(policy, gx_warn={k: v for k, v in policy.gx_warn.items() if k != "volume_raw"})
    blocked = Auditor(tmp_path / "b", strict).validate("volume_raw", "surge", _surge())
    assert blocked.blocking
    assert [f.severity for f in blocked.failures] == ["critical"]


def test_the_policy_decides_the_freshness_checks_severity():
    """Never-materialized assets are stale: at WARN under policy.yml, at ERROR (and blocking)
    under a policy that makes a stale publication block."""
    policy = current()
    strict = replace(policy, freshness={**policy.freshness, "stale_publication": "block"})
    for checks, severity in (
        (build_freshness_checks(policy), dg.AssetCheckSeverity.WARN),
        (build_freshness_checks(strict), dg.AssetCheckSeverity.ERROR),
    ):
        (publication,) = [
            c for c in checks if any(k.asset_key.path[0] == "published" for k in c.check_keys)
        ]
        (spec,) = publication.check_specs
        assert spec.blocking is (severity == dg.AssetCheckSeverity.ERROR)
        result = dg.materialize(
            [publication], selection=dg.AssetSelection.checks(publication), raise_on_error=False
        )
        (evaluation,) = result.get_asset_check_evaluations()
        assert (evaluation.passed, evaluation.severity) == (False, severity)


def test_anomaly_checks_to_come_take_the_default_until_listed():
    policy = current()
    assert policy.anomaly_severity("conversion_drop") == "warn"
    listed = replace(policy, anomalies={"conversion_drop": "block"})
    assert listed.anomaly_severity("conversion_drop") == "block"
