"""The KPI mart recovers the generator's planted parameters (tolerances from truths.py)."""

import pytest

from demo_shop.truths import CAMPAIGN_RETURN, CHANNEL_CONVERSION, TIER_REPURCHASE


def test_session_conversion_per_channel(mart):
    measured = dict(
        mart.execute(
            "select dimension_value, sum(numerator) / sum(denominator) from marts.kpi_daily"
            " where kpi_id = 'session_conversion_rate' and dimension = 'channel' group by all"
        ).fetchall()
    )
    assert set(measured) == set(CHANNEL_CONVERSION.rates)
    for channel, rate in CHANNEL_CONVERSION.rates.items():
        assert measured[channel] == pytest.approx(
            rate, rel=CHANNEL_CONVERSION.relative_tolerance
        ), channel


def test_repurchase_rate_per_member_tier_over_complete_cohorts(mart):
    measured = dict(
        mart.execute(
            "select member_tier, sum(repurchase_rate_90d_numerator)"
            " / sum(repurchase_rate_90d_denominator) from marts.kpi_repurchase_cohorts"
            " where is_complete and member_tier <> 'all' group by all"
        ).fetchall()
    )
    assert set(measured) == set(TIER_REPURCHASE.probability)
    for tier, probability in TIER_REPURCHASE.probability.items():
        assert measured[tier] == pytest.approx(probability, abs=TIER_REPURCHASE.tolerance), tier
    # the ordering the tiers exist for
    assert measured["none"] < measured["silver"] < measured["gold"]


def test_campaign_return(mart):
    ((roas, from_daily),) = mart.execute(
        "select roas, (select sum(roas_numerator) / sum(roas_denominator)"
        "   from marts.kpi_campaigns_daily where campaign_id = $c)"
        " from marts.kpi_campaigns where campaign_id = $c",
        {"c": CAMPAIGN_RETURN.campaign_id},
    ).fetchall()
    assert roas == pytest.approx(CAMPAIGN_RETURN.roas, abs=CAMPAIGN_RETURN.tolerance)
    assert from_daily == pytest.approx(roas, rel=1e-12)


def test_every_daily_kpi_has_a_whole_shop_row_on_every_day(mart):
    days, kpis = mart.execute(
        "select count(distinct session_date), (select count(distinct kpi_id) from marts.kpi_daily)"
        " from marts.fct_sessions"
    ).fetchall()[0]
    missing = mart.execute(
        "with k as (select distinct kpi_id from marts.kpi_daily),"
        " d as (select distinct session_date as kpi_date from marts.fct_sessions)"
        " select count(*) from k cross join d where not exists (select 1 from marts.kpi_daily x"
        "  where x.kpi_id = k.kpi_id and x.kpi_date = d.kpi_date and x.dimension = 'all')"
    ).fetchall()[0][0]
    assert days == 183 and kpis >= 20
    assert missing == 0
