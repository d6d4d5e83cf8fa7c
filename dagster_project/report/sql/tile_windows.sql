-- Headline tiles from kpi_daily's whole-shop rows: the latest $window_days days up to the
-- as-of date against the same number of days before. Ratios are re-aggregated from their
-- numerators and denominators (never an average of daily ratios); plain measures are sums.
with

daily as (
    select
        kpi_id,
        kpi_date,
        numerator,
        denominator,
        case
            when kpi_date > $as_of - cast($window_days as integer) then 'current'
            else 'previous'
        end as period,
    from kpi_daily
    where
        dimension = 'all'
        and list_contains($kpi_ids, kpi_id)
        and kpi_date > $as_of - cast(2 * $window_days as integer)
        and kpi_date <= $as_of
)

select
    kpi_id,
    period,
    min(kpi_date) as period_start,
    max(kpi_date) as period_end,
    count(distinct kpi_date) = $window_days as is_full,
    sum(numerator) as numerator,
    sum(denominator) as denominator,
    case
        when count(denominator) = 0 then sum(numerator)
        else safe_divide(sum(numerator), sum(denominator))
    end as value,
from daily
group by kpi_id, period
