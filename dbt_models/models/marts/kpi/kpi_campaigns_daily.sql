-- Campaign delivery, attributed results, ROAS, ROI and CAC per campaign and day (catalogue §7).
-- Attribution: last non-direct touch within `attribution_lookback_days` (see
-- int_orders_attributed); spend counts on its date, attributed orders on their order date.
{{ campaign_kpis(['campaign_id', 'kpi_date']) }}
