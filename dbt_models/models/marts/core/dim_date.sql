-- The calendar: one row per date of every whole year the shop's data touches, from January 1
-- of the year of its earliest business date to December 31 of the year of its latest (any
-- history loads: a 1997 shop gets 1997 onwards). The dates are those of every source table
-- but events, which lie within a day of their session: the last year is that of the latest
-- date plus one day, so an event after a New Year's Eve session still has its day.
{%- set dated = [
    ('stg_sessions', ['session_date']),
    ('stg_orders', ['order_date']),
    ('stg_customers', ['registered_date']),
    ('stg_products', ['launched_date', 'discontinued_date']),
    ('stg_refunds', ['refund_date']),
    ('stg_inventory_snapshots', ['snapshot_date']),
    ('stg_purchase_orders', ['ordered_date', 'expected_date', 'received_date']),
    ('stg_shipments', ['shipped_date', 'promised_date', 'delivered_date']),
    ('stg_campaigns', ['start_date', 'end_date']),
    ('stg_ad_spend', ['spend_date']),
    ('stg_experiments', ['start_date', 'end_date']),
    ('stg_experiment_assignments', ['assigned_date']),
    ('stg_support_tickets', ['created_date']),
    ('stg_surveys', ['responded_date']),
] %}
with

source_dates as (
    {%- for model, columns in dated %}
    {%- for column in columns %}
    select min({{ column }}) as first_day, max({{ column }}) as last_day
    from {{ ref(model) }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
),

data_range as (
    -- a shop without any dated row yet gets this year
    select
        cast({{ dbt.date_trunc('year', 'coalesce(min(first_day), current_date)') }} as date)
            as first_day,
        cast({{ dbt.dateadd(
            'day', -1,
            dbt.dateadd('year', 1, dbt.date_trunc(
                'year', dbt.dateadd('day', 1, 'coalesce(max(last_day), current_date)')
            ))
        ) }} as date) as last_day
    from source_dates
),

days as (
    {{ days_between(
        '(select first_day from data_range)', '(select last_day from data_range)'
    ) }}
)

select
    date_day,
    cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
    extract(year from date_day) as year,
    extract(month from date_day) as month,
    extract(day from date_day) as day_of_month,
    {{ iso_day_of_week('date_day') }} as iso_day_of_week,
    {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
from days
