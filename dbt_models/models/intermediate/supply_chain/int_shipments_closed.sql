-- Shipments with the moment they stopped being open: delivered_at for a delivered parcel, the
-- time of its final status for a lost or returned (refused) one, NULL while still in transit.
-- An open shipment past its promised_at is overdue (catalogue §6, overdue_open_shipments).
with

shipments as (
    select * from {{ ref('fct_shipments') }}
),

latest_versions as (
    select shipment_id, updated_at from {{ ref('stg_shipments') }}
),

closed as (
    select
        shipments.shipment_id,
        shipments.order_id,
        shipments.carrier,
        shipments.status,
        shipments.shipped_date,
        shipments.promised_date,
        shipments.delivered_date,
        shipments.shipped_at,
        shipments.promised_at,
        shipments.delivered_at,
        shipments.shipping_cost,
        shipments.is_delivered,
        shipments.is_on_time,
        shipments.delivery_days,
        case
            when shipments.delivered_at is not null then shipments.delivered_at
            when shipments.status in ('lost', 'returned') then latest_versions.updated_at
        end as closed_at
    from shipments
    left join latest_versions on shipments.shipment_id = latest_versions.shipment_id
)

select
    *,
    {{ business_date('closed_at') }} as closed_date
from closed
