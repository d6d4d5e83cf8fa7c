-- Weekly session conversion for the whole shop and per platform: Σ sessions with a purchase ÷
-- Σ sessions over the week.
with

weeks as (
    select * from report_weeks($as_of, $first_date, $weeks)
),

daily as (
    select
        'All sessions' as series,
        0 as series_rank,
        kpi_date,
        session_conversion_rate_numerator as numerator,
        session_conversion_rate_denominator as denominator,
    from kpi_traffic_totals_daily
    union all
    select
        platform as series,
        1 as series_rank,
        kpi_date,
        session_conversion_rate_numerator as numerator,
        session_conversion_rate_denominator as denominator,
    from kpi_traffic_daily
)

select
    daily.series,
    'session_conversion_rate' as kpi_id,
    weeks.week_end as x,
    safe_divide(sum(daily.numerator), sum(daily.denominator)) as y,
from daily
inner join weeks on daily.kpi_date between weeks.week_start and weeks.week_end
group by daily.series, daily.series_rank, weeks.week_end
order by daily.series_rank, daily.series, weeks.week_end
