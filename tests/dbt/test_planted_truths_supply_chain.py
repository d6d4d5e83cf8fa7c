"""The logistics marts recover the generator's planted carrier on-time rates (truths.py)."""

import pytest

from demo_shop.truths import CARRIER_ON_TIME


def test_on_time_delivery_rate_per_carrier(mart):
    """Re-aggregated from the daily numerators and denominators over the whole period."""
    measured = dict(
        mart.execute(
            "select carrier, sum(on_time_delivery_rate_numerator)"
            " / sum(on_time_delivery_rate_denominator) from marts.kpi_delivery_daily"
            " group by carrier"
        ).fetchall()
    )
    assert set(measured) == set(CARRIER_ON_TIME.rates)
    for carrier, rate in CARRIER_ON_TIME.rates.items():
        assert measured[carrier] == pytest.approx(rate, abs=CARRIER_ON_TIME.tolerance), carrier


def test_long_table_carries_the_same_carrier_rates_and_a_whole_shop_row(mart):
    """kpi_daily's carrier rows add up to the mart, and its whole-shop rows to the carriers."""
    by_dimension = dict(
        mart.execute(
            "select dimension, sum(numerator) / sum(denominator) from marts.kpi_daily"
            " where kpi_id = 'on_time_delivery_rate' group by dimension"
        ).fetchall()
    )
    (from_mart,) = mart.execute(
        "select sum(on_time_delivery_rate_numerator) / sum(on_time_delivery_rate_denominator)"
        " from marts.kpi_delivery_daily"
    ).fetchone()
    assert by_dimension["carrier"] == pytest.approx(from_mart, rel=1e-12)
    assert by_dimension["all"] == pytest.approx(from_mart, rel=1e-12)
