-- One row per purchase order (latest version): what was ordered, received, and how late.
with

purchase_orders as (
    select * from {{ ref('stg_purchase_orders') }}
)

select
    po_id,
    supplier_id,
    product_id,
    ordered_date,
    expected_date,
    received_date,
    ordered_at,
    expected_at,
    received_at,
    qty_ordered,
    qty_received,
    unit_cost,
    received_at is not null as is_received,
    received_at <= expected_at as is_on_time,
    {{ dbt.datediff('ordered_at', 'received_at', 'second') }}
    / 86400.0 as lead_time_days
from purchase_orders
