-- Inventory turnover, days of inventory and sell-through per month and category, and for the
-- whole shop (category 'all') (catalogue §5).
--   average inventory value = mean of the daily values at cost over the days with a snapshot;
--   turnover = COGS ÷ average inventory value;
--   turnover days = average inventory value ÷ COGS × days = Σ daily values ÷ COGS (NULL when
--     COGS is 0);
--   sell-through = units sold ÷ (units on hand at the period's start + units received), where
--     the start is the end-of-day stock of the day before the month, or, for the first month
--     of data, the first day's stock before that day's sales and receipts.
with

days as (
    select * from {{ ref('int_inventory_category_days') }}
),

first_days as (
    select * from days
    qualify row_number() over (partition by kpi_month, category order by snapshot_date) = 1
),

opening as (
    select
        first_days.kpi_month,
        first_days.category,
        coalesce(
            previous_day.on_hand_units,
            first_days.on_hand_units + first_days.units_sold - first_days.units_received
        ) as opening_units
    from first_days
    left join days as previous_day
        on first_days.category = previous_day.category
        and previous_day.snapshot_date
        = {{ dbt.dateadd('day', -1, 'first_days.snapshot_date') }}
),

months as (
    select
        kpi_month,
        category,
        count(*) as snapshot_days,
        sum(inventory_value) as inventory_value_days,
        avg(inventory_value) as average_inventory_value,
        sum(cogs) as cogs,
        sum(units_sold) as units_sold,
        sum(units_received) as units_received
    from days
    group by kpi_month, category
)

select
    months.kpi_month,
    months.category,
    months.snapshot_days,
    months.cogs,
    months.units_sold,
    months.units_received,
    opening.opening_units,
    {{ ratio('inventory_turnover', 'months.cogs', 'months.average_inventory_value') }},
    {{ ratio('inventory_turnover_days', 'months.inventory_value_days', 'months.cogs') }},
    {{ ratio(
        'sell_through_rate',
        'months.units_sold',
        'opening.opening_units + months.units_received',
    ) }}
from months
inner join opening
    on months.kpi_month = opening.kpi_month
    and months.category = opening.category
