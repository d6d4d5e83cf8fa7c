-- One row per shipment (latest version), with its delivery time and punctuality.
with

shipments as (
    select * from {{ ref('stg_shipments') }}
)

select
    shipment_id,
    order_id,
    carrier,
    status,
    shipped_date,
    promised_date,
    delivered_date,
    shipped_at,
    promised_at,
    delivered_at,
    shipping_cost,
    delivered_at is not null as is_delivered,
    delivered_at <= promised_at as is_on_time,
    {{ dbt.datediff('shipped_at', 'delivered_at', 'second') }}
    / 86400.0 as delivery_days
from shipments
