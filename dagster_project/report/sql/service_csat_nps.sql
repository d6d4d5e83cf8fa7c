-- Weekly CSAT (responses scoring 4–5 ÷ responses) and NPS (promoters − detractors ÷ responses,
-- shown on the −100..100 scale) from summed parts.
with

weeks as (
    select * from report_weeks($as_of, $first_date, $weeks)
),

-- NPS parts may be published as a fraction (−1..1) or already in points (−100..100).
nps_scale as (
    select case when max(abs(nps)) > 1 then 1 else 100 end as factor,
    from kpi_service_daily
),

weekly as (
    select
        weeks.week_end,
        safe_divide(sum(service.csat_numerator), sum(service.csat_denominator)) as csat,
        safe_divide(sum(service.nps_numerator), sum(service.nps_denominator)) as nps,
    from kpi_service_daily as service
    inner join weeks on service.kpi_date between weeks.week_start and weeks.week_end
    group by weeks.week_end
)

select
    'CSAT' as series,
    'csat' as kpi_id,
    'rate' as unit,
    week_end as x,
    csat as y,
from weekly
union all
select
    'NPS' as series,
    'nps' as kpi_id,
    'score' as unit,
    weekly.week_end as x,
    weekly.nps * nps_scale.factor as y,
from weekly
cross join nps_scale
order by series, x
