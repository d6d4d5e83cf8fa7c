-- The calendar: one row per date between `calendar_start` and `calendar_end`.
with

spine as (
    {{ dbt.date_spine('day', "cast('" ~ var('calendar_start') ~ "' as date)",
                      "cast('" ~ var('calendar_end') ~ "' as date)") }}
),

days as (
    select cast(date_day as date) as date_day from spine
)

select
    date_day,
    cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
    extract(year from date_day) as year,
    extract(month from date_day) as month,
    extract(day from date_day) as day_of_month,
    {{ iso_day_of_week('date_day') }} as iso_day_of_week,
    {{ iso_day_of_week('date_day') }} >= 6 as is_weekend,
from days
