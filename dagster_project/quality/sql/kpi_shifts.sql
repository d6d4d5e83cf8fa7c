-- Daily whole-shop conversion and AOV, and the channel mix, against their trailing 28-day
-- mean and standard deviation, for the latest `window_days` days.
with

daily as (
    select
        kpi_date,
        kpi_id || case when dimension = 'all' then '' else ':' || dimension_value end as series,
        value,
    from marts.kpi_daily
    where
        (kpi_id in ('session_conversion_rate', 'aov') and dimension = 'all')
        or (kpi_id = 'channel_share' and dimension = 'channel')
),

normed as (
    select
        kpi_date,
        series,
        value,
        avg(value) over trailing_28_days as trailing_mean,
        stddev_samp(value) over trailing_28_days as trailing_stddev,
    from daily
    window trailing_28_days as (
        partition by series
        order by kpi_date
        range between interval 28 day preceding and interval 1 day preceding
    )
)

select
    kpi_date,
    series,
    value,
    trailing_mean,
    (value - trailing_mean) / nullif(trailing_stddev, 0) as z_score,
from normed
where kpi_date > (select max(kpi_date) from daily) - cast($window_days as integer)
order by series, kpi_date
