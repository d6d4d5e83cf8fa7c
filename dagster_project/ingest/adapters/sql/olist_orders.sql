-- orders: one version per order and event time (purchase, approval, handed to the carrier,
-- delivered; each when present and not before the purchase), in the folder of the event's
-- local day. A version's status is the furthest stage reached by then; the last version
-- carries the export's final status (mapped). A cancelled order is one version at its
-- purchase (the export does not say when it was cancelled). One row per order and day: the
-- day's last version.
with
events as (
    select order_id, purchased_at as event_at, purchased_day as event_day, 1 as stage,
    from olist_orders
    where final_status <> 'cancelled'
    union all
    select order_id, approved_at, approved_day, 2,
    from olist_orders
    where final_status <> 'cancelled' and approved_at >= purchased_at
    union all
    select order_id, carrier_at, carrier_day, 3,
    from olist_orders
    where final_status <> 'cancelled' and carrier_at >= purchased_at
    union all
    select order_id, delivered_at, delivered_day, 4,
    from olist_orders
    where final_status <> 'cancelled' and delivered_at >= purchased_at
),
moments as (
    select order_id, event_at, min(event_day) as event_day, max(stage) as stage,
    from events
    group by order_id, event_at
),
versions as (
    select
        moments.order_id,
        moments.event_at,
        moments.event_day,
        case
            when moments.event_at = max(moments.event_at) over (partition by moments.order_id)
                then orders.final_status
            else ['placed', 'paid', 'shipped', 'delivered'][
                max(moments.stage) over (
                    partition by moments.order_id
                    order by moments.event_at
                    rows between unbounded preceding and current row
                )
            ]
        end as status,
    from moments
    join olist_orders as orders using (order_id)
    union all
    select order_id, purchased_at, purchased_day, 'cancelled',
    from olist_orders
    where final_status = 'cancelled'
)
select
    cast(versions.event_day as varchar) as dt,
    versions.order_id,
    orders.person_id as customer_id,
    null::varchar as session_id,
    utc_text(orders.purchased_at) as ordered_at,
    versions.status,
    null::varchar as platform,
    0.00::decimal(18, 2) as discount_amount,
    orders.freight_value as shipping_fee,
    0.00::decimal(18, 2) as tax_amount,
    null::varchar as coupon_code,
    utc_text(versions.event_at) as updated_at,
from versions
join olist_orders as orders using (order_id)
qualify row_number() over (
    partition by versions.order_id, versions.event_day order by versions.event_at desc
) = 1
order by versions.event_day, versions.order_id, versions.event_at;
