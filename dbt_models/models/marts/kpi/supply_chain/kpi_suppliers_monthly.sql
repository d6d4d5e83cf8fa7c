-- Supplier performance per month × supplier (catalogue §6).
--   fill rate = Σ qty_received ÷ Σ qty_ordered over the purchase orders expected in the month
--     (expected_date), counting what has been received so far; orders expected after the last
--     day of purchase-order data are not yet due and are left out;
--   on-time rate = purchase orders received on or before expected_at ÷ purchase orders
--     received, in the month of receipt;
--   lead time = median of (received_at − ordered_at) in days over the orders received in the
--     month (NULL without receipts).
-- A supplier appears in a month when it has an order expected or received in it.
with

purchase_orders as (
    select * from {{ ref('fct_purchase_orders') }}
),

as_of as (
    select
        greatest(
            max(ordered_date), coalesce(max(received_date), max(ordered_date))
        ) as last_day
    from purchase_orders
),

expected as (
    select
        cast({{ dbt.date_trunc('month', 'purchase_orders.expected_date') }} as date) as kpi_month,
        purchase_orders.supplier_id,
        count(*) as expected_purchase_orders,
        cast(sum(purchase_orders.qty_ordered) as bigint) as qty_ordered,
        cast(sum(coalesce(purchase_orders.qty_received, 0)) as bigint) as qty_received
    from purchase_orders
    inner join as_of on purchase_orders.expected_date <= as_of.last_day
    group by
        cast({{ dbt.date_trunc('month', 'purchase_orders.expected_date') }} as date),
        purchase_orders.supplier_id
),

received as (
    select
        cast({{ dbt.date_trunc('month', 'received_date') }} as date) as kpi_month,
        supplier_id,
        count(*) as received_purchase_orders,
        count(case when received_at <= expected_at then 1 end) as on_time_purchase_orders,
        cast(
            percentile_cont(0.5) within group (order by lead_time_days) as double
        ) as supplier_lead_time_days
    from purchase_orders
    where is_received
    group by cast({{ dbt.date_trunc('month', 'received_date') }} as date), supplier_id
),

supplier_months as (
    select kpi_month, supplier_id from expected
    union
    select kpi_month, supplier_id from received
)

select
    supplier_months.kpi_month,
    supplier_months.supplier_id,
    coalesce(expected.expected_purchase_orders, 0) as expected_purchase_orders,
    {{ ratio(
        'supplier_fill_rate',
        'coalesce(expected.qty_received, 0)',
        'coalesce(expected.qty_ordered, 0)',
    ) }},
    coalesce(received.received_purchase_orders, 0) as received_purchase_orders,
    {{ ratio(
        'supplier_on_time_rate',
        'coalesce(received.on_time_purchase_orders, 0)',
        'coalesce(received.received_purchase_orders, 0)',
    ) }},
    received.supplier_lead_time_days
from supplier_months
left join expected
    on supplier_months.kpi_month = expected.kpi_month
    and supplier_months.supplier_id = expected.supplier_id
left join received
    on supplier_months.kpi_month = received.kpi_month
    and supplier_months.supplier_id = received.supplier_id
