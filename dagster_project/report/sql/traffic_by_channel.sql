-- Sessions per channel and whole week (7 days ending on the as-of date), channels ordered by
-- their sessions over the period shown.
with

weeks as (
    select * from report_weeks($as_of, $first_date, $weeks)
),

weekly as (
    select
        traffic.channel,
        weeks.week_end,
        sum(traffic.sessions) as sessions,
    from kpi_traffic_daily as traffic
    inner join weeks on traffic.kpi_date between weeks.week_start and weeks.week_end
    group by traffic.channel, weeks.week_end
)

select
    replace(channel, '_', ' ') as series,
    'sessions' as kpi_id,
    week_end as x,
    sessions as y,
from weekly
order by sum(sessions) over (partition by channel) desc, channel, week_end
