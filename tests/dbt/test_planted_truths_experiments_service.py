"""The A/B-test and customer-service marts recover the generator's planted truths
(definitions and tolerances: demo_shop/truths.py)."""

import pytest

from demo_shop.truths import (
    CSAT_BY_DELIVERY,
    EXPERIMENT_WITH_LIFT,
    EXPERIMENT_WITHOUT_LIFT,
)


def _treatment(mart, experiment_id: str) -> dict:
    rows = (
        mart.execute(
            "select * from marts.kpi_experiments where experiment_id = $e and not is_control",
            {"e": experiment_id},
        )
        .df()
        .to_dict("records")
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_experiment_with_lift_is_recovered_and_significant(mart):
    treatment = _treatment(mart, EXPERIMENT_WITH_LIFT.experiment_id)
    assert treatment["relative_lift"] == pytest.approx(
        EXPERIMENT_WITH_LIFT.relative_lift, abs=EXPERIMENT_WITH_LIFT.tolerance
    )
    assert treatment["is_significant"] and treatment["p_value"] < 0.05
    assert treatment["ci_lower"] > 0
    assert not treatment["has_sample_ratio_mismatch"]


def test_experiment_without_lift_is_not_significant(mart):
    treatment = _treatment(mart, EXPERIMENT_WITHOUT_LIFT.experiment_id)
    assert treatment["relative_lift"] == pytest.approx(
        EXPERIMENT_WITHOUT_LIFT.relative_lift, abs=EXPERIMENT_WITHOUT_LIFT.tolerance
    )
    assert not treatment["is_significant"] and treatment["p_value"] >= 0.05
    assert treatment["ci_lower"] < 0 < treatment["ci_upper"]
    assert not treatment["has_sample_ratio_mismatch"]


def test_csat_is_worse_after_late_deliveries(mart):
    """Post-delivery surveys sit in channel post_delivery, category by punctuality."""
    measured = dict(
        mart.execute(
            "select category, sum(csat_numerator) / sum(csat_denominator)"
            " from marts.kpi_service_daily where channel = 'post_delivery'"
            " and category in ('delivered_on_time', 'delivered_late') group by category"
        ).fetchall()
    )
    tolerance = CSAT_BY_DELIVERY.tolerance
    assert measured["delivered_on_time"] == pytest.approx(CSAT_BY_DELIVERY.on_time, abs=tolerance)
    assert measured["delivered_late"] == pytest.approx(CSAT_BY_DELIVERY.late, abs=tolerance)
    assert measured["delivered_late"] < measured["delivered_on_time"]


def test_whole_shop_service_rows_of_kpi_daily_add_up_to_the_service_mart(mart):
    """Every survey and ticket is counted once: kpi_daily's whole-shop CSAT, NPS and tickets
    equal the sums over kpi_service_daily's rows."""
    mismatches = mart.execute(
        "with mart as (select kpi_date, sum(tickets) as tickets,"
        "   sum(csat_numerator) as csat_n, sum(csat_denominator) as csat_d,"
        "   sum(nps_numerator) as nps_n, sum(nps_denominator) as nps_d"
        "   from marts.kpi_service_daily group by kpi_date),"
        " daily as (select kpi_date,"
        "   max(case when kpi_id = 'tickets' then numerator end) as tickets,"
        "   max(case when kpi_id = 'csat' then numerator end) as csat_n,"
        "   max(case when kpi_id = 'csat' then denominator end) as csat_d,"
        "   max(case when kpi_id = 'nps' then numerator end) as nps_n,"
        "   max(case when kpi_id = 'nps' then denominator end) as nps_d"
        "   from marts.kpi_daily where dimension = 'all' group by kpi_date)"
        " select count(*) from daily left join mart using (kpi_date)"
        " where coalesce(mart.tickets, 0) <> daily.tickets"
        "   or coalesce(mart.csat_n, 0) <> daily.csat_n or coalesce(mart.csat_d, 0) <> daily.csat_d"
        "   or coalesce(mart.nps_n, 0) <> daily.nps_n or coalesce(mart.nps_d, 0) <> daily.nps_d"
    ).fetchall()[0][0]
    assert mismatches == 0


def test_every_target_of_the_scorecard_is_scored(mart):
    unscored, teams = mart.execute(
        "select count(*) filter (where score is null), count(distinct owner_team)"
        " from marts.kpi_scorecard_monthly"
    ).fetchall()[0]
    assert unscored == 0 and teams >= 5
