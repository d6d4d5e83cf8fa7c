"""The A/B statistics of kpi_experiments (macros/statistics.sql) agree with scipy.

The real model is run by dbt on a tiny warehouse that holds only its input,
intermediate.int_experiment_units_converted, filled with experiments of known counts: an A/B
test with a modest effect, an A/A test, a tiny sample, a huge effect (p ~ 1e-20, where only a
relative-precision normal tail is right), and sample-ratio checks with 1 to 44 degrees of
freedom (odd and even: the two closed forms of the chi-square tail, and Wilson-Hilferty past
40). Expected values: the pooled z and unpooled interval by their textbook formulas,
p = 2 sf(|z|) from scipy.stats.norm, SRM from scipy.stats.chisquare.
"""

import math
from dataclasses import dataclass

import duckdb
import pytest
from scipy import stats

from tests.dbt_cli import run_dbt

Z_95 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class Arm:
    variant: str
    units: int
    converters: int
    planned_share: float


EXPERIMENTS: dict[str, list[Arm]] = {
    "modest_effect": [Arm("control", 5000, 150, 0.5), Arm("treatment", 5000, 190, 0.5)],
    "a_a_test": [Arm("control", 4000, 120, 0.5), Arm("treatment", 4000, 120, 0.5)],
    "tiny_sample": [Arm("control", 3, 1, 0.5), Arm("treatment", 4, 3, 0.5)],
    "huge_effect": [Arm("control", 20000, 200, 0.5), Arm("treatment", 20000, 500, 0.5)],
    "no_effect_unequal": [Arm("control", 3000, 90, 0.6), Arm("treatment", 2000, 61, 0.4)],
    "srm_two_arms": [Arm("control", 5000, 100, 0.5), Arm("treatment", 5400, 120, 0.5)],
    "srm_three_arms": [
        Arm("control", 1000, 30, 1 / 3),
        Arm("b", 1000, 35, 1 / 3),
        Arm("c", 900, 20, 1 / 3),
    ],
    "srm_four_arms": [
        Arm("control", 820, 20, 0.4),
        Arm("b", 400, 10, 0.2),
        Arm("c", 390, 12, 0.2),
        Arm("d", 440, 9, 0.2),
    ],
    "srm_five_arms": [Arm("control", 300, 9, 0.2)]
    + [Arm(f"v{i}", 300 + 15 * i, 9, 0.2) for i in range(1, 5)],
    "srm_26_arms": [Arm("control", 100, 3, 1 / 26)]
    + [Arm(f"v{i:02d}", 100 + (i % 5) * 4, 3, 1 / 26) for i in range(1, 26)],
    "srm_45_arms": [Arm("control", 60, 2, 1 / 45)]
    + [Arm(f"v{i:02d}", 60 + (i % 7) * 3, 2, 1 / 45) for i in range(1, 45)],
}


def _expected_comparison(arm: Arm, control: Arm) -> dict[str, float | None]:
    p1, p2 = arm.converters / arm.units, control.converters / control.units
    pooled = (arm.converters + control.converters) / (arm.units + control.units)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / arm.units + 1 / control.units))
    se = math.sqrt(p1 * (1 - p1) / arm.units + p2 * (1 - p2) / control.units)
    z = (p1 - p2) / se_pooled if se_pooled > 0 else None
    return {
        "z_statistic": z,
        "p_value": None if z is None else 2 * stats.norm.sf(abs(z)),
        "ci_lower": p1 - p2 - Z_95 * se,
        "ci_upper": p1 - p2 + Z_95 * se,
    }


def _expected_srm(arms: list[Arm]) -> tuple[float, float]:
    observed = [arm.units for arm in arms]
    expected = [arm.planned_share * sum(observed) for arm in arms]
    result = stats.chisquare(observed, expected)
    return float(result.statistic), float(result.pvalue)


@pytest.fixture(scope="module")
def kpi_experiments(tmp_path_factory) -> dict[tuple[str, str], dict]:
    """kpi_experiments as dbt builds it from the experiments above."""
    root = tmp_path_factory.mktemp("ab_statistics")
    (root / "warehouse").mkdir()
    database = root / "warehouse" / "build.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_experiment_units_converted ("
            " experiment_id varchar, visitor_id varchar, variant varchar, is_control boolean,"
            " planned_share double, assigned_at timestamptz, first_converted_at timestamptz,"
            " has_converted boolean)"
        )
        con.execute("create schema staging")
        con.execute(
            "create table staging.stg_experiments"
            " (experiment_id varchar, start_date date, end_date date)"
        )
        for experiment_id, arms in EXPERIMENTS.items():
            con.execute(
                "insert into staging.stg_experiments values ($1, '2025-07-01', '2025-07-31')",
                [experiment_id],
            )
            for arm in arms:
                con.execute(
                    "insert into intermediate.int_experiment_units_converted"
                    " select $experiment, $variant || '-' || i, $variant, $variant = 'control',"
                    " $share, timestamptz '2025-07-01 00:00:00+00', null, i < $converters"
                    " from range($units) as t (i)",
                    {
                        "experiment": experiment_id,
                        "variant": arm.variant,
                        "share": arm.planned_share,
                        "converters": arm.converters,
                        "units": arm.units,
                    },
                )
    result = run_dbt(root, "run", "--select", "kpi_experiments", data_dir=root)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(database), read_only=True) as con:
        frame = con.execute("select * from marts.kpi_experiments").df()
    return {(row["experiment_id"], row["variant"]): row for row in frame.to_dict("records")}


def _value(row: dict, column: str) -> float | None:
    value = row[column]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@pytest.mark.parametrize("experiment_id", sorted(EXPERIMENTS))
def test_z_p_value_and_interval_match_scipy(kpi_experiments, experiment_id):
    arms = EXPERIMENTS[experiment_id]
    control = arms[0]
    for arm in arms[1:]:
        row = kpi_experiments[(experiment_id, arm.variant)]
        expected = _expected_comparison(arm, control)
        if expected["z_statistic"] is None:
            assert _value(row, "z_statistic") is None and _value(row, "p_value") is None
            continue
        assert row["z_statistic"] == pytest.approx(expected["z_statistic"], rel=1e-9, abs=1e-12)
        # relative precision holds in the far tail too (huge_effect: p ~ 1e-20)
        assert row["p_value"] == pytest.approx(expected["p_value"], rel=1e-6)
        assert row["ci_lower"] == pytest.approx(expected["ci_lower"], rel=1e-9, abs=1e-12)
        assert row["ci_upper"] == pytest.approx(expected["ci_upper"], rel=1e-9, abs=1e-12)
        assert row["is_significant"] == (expected["p_value"] < 0.05)
    control_row = kpi_experiments[(experiment_id, control.variant)]
    assert _value(control_row, "z_statistic") is None
    assert not control_row["is_significant"]


@pytest.mark.parametrize("experiment_id", sorted(EXPERIMENTS))
def test_sample_ratio_mismatch_matches_scipy(kpi_experiments, experiment_id):
    arms = EXPERIMENTS[experiment_id]
    chi_square, p_value = _expected_srm(arms)
    degrees_of_freedom = len(arms) - 1
    for arm in arms:
        row = kpi_experiments[(experiment_id, arm.variant)]
        assert row["srm_degrees_of_freedom"] == degrees_of_freedom
        assert row["srm_chi_square"] == pytest.approx(chi_square, rel=1e-9, abs=1e-9)
        if degrees_of_freedom <= 40:  # exact series (odd df: up to erfc's 1.2e-7 relative)
            assert row["srm_p_value"] == pytest.approx(p_value, rel=1e-6, abs=1e-15)
        else:  # Wilson-Hilferty
            assert row["srm_p_value"] == pytest.approx(p_value, abs=2e-3)
        assert row["has_sample_ratio_mismatch"] == (p_value < 0.001)


def test_the_cases_cover_what_they_claim():
    """A/A is exactly null, the tiny sample is not significant, the huge effect is p < 1e-15,
    and both a mismatch and no mismatch occur."""
    a_a = _expected_comparison(*reversed(EXPERIMENTS["a_a_test"]))
    assert a_a["z_statistic"] == 0 and a_a["p_value"] == pytest.approx(1.0)
    assert _expected_comparison(*reversed(EXPERIMENTS["tiny_sample"]))["p_value"] > 0.05
    assert _expected_comparison(*reversed(EXPERIMENTS["huge_effect"]))["p_value"] < 1e-15
    mismatches = {name: _expected_srm(arms)[1] < 0.001 for name, arms in EXPERIMENTS.items()}
    assert mismatches["srm_two_arms"] and not mismatches["a_a_test"]
