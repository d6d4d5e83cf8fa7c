-- shipments: one parcel per order that is not cancelled and was handed to a carrier
-- (shipment_id = order_id). Versions: in_transit at the carrier time (carrier day's folder),
-- delivered at the delivery time (delivery day's folder). An export that says the parcel was
-- delivered before it was handed to the carrier gets the delivered version only, at the later
-- of the two times (the first moment the export could say both), both times as exported.
-- One row per parcel and day: the day's last version.
with
parcels as (
    select *,
    from olist_orders
    where final_status <> 'cancelled' and carrier_at is not null
),
versions as (
    select order_id, carrier_at as version_at, carrier_day as version_day, 'in_transit' as status,
        null::timestamptz as delivered_at,
    from parcels
    where delivered_at is null or delivered_at > carrier_at
    union all
    select
        order_id,
        greatest(carrier_at, delivered_at),
        case when delivered_at >= carrier_at then delivered_day else carrier_day end,
        'delivered',
        delivered_at,
    from parcels
    where delivered_at is not null
)
select
    cast(versions.version_day as varchar) as dt,
    versions.order_id as shipment_id,
    versions.order_id,
    null::varchar as carrier,
    utc_text(parcels.carrier_at) as shipped_at,
    utc_text(parcels.promised_at) as promised_at,
    utc_text(versions.delivered_at) as delivered_at,
    parcels.freight_value as shipping_cost,
    versions.status,
    utc_text(versions.version_at) as updated_at,
from versions
join parcels using (order_id)
qualify row_number() over (
    partition by versions.order_id, versions.version_day order by versions.version_at desc
) = 1
order by versions.version_day, versions.order_id, versions.version_at;
