-- The export typed: every local (America/Sao_Paulo, no zone) timestamp of the export becomes
-- an instant `<event>_at` (TIMESTAMPTZ) and keeps its local business day `<event>_day` (the
-- wall-clock date: the landing folder it belongs to). timezone(zone, timestamp) reads a
-- wall-clock time of the zone: a time in the hour skipped when DST starts (2017-10-15
-- 00:00-00:59) is read with the offset before the change (-03, so 00:30 is 03:30Z, the
-- instant the clocks call 01:30), a time in the hour repeated when DST ends (2018-02-17
-- 23:00-23:59) as its second occurrence (-03, standard time).
create or replace temp macro olist_instant(local_time) as
    timezone({{ zone | sql_string }}, cast(local_time as timestamp));

create or replace temp macro olist_day(local_time) as
    cast(cast(local_time as timestamp) as date);

-- The landing contract's timestamp text: UTC, ISO-8601, whole seconds.
create or replace temp macro utc_text(instant) as
    strftime(timezone('UTC', instant), '%Y-%m-%dT%H:%M:%SZ');

create or replace temp table olist_items as
select
    order_id,
    cast(order_item_id as integer) as line_number,
    product_id,
    seller_id,
    cast(trim(price) as decimal(18, 2)) as price,
    cast(trim(freight_value) as decimal(18, 2)) as freight_value,
from export_order_items;

create or replace temp table olist_orders as
select
    orders.order_id,
    customers.customer_unique_id as person_id,
    nullif(trim(customers.customer_city), '') as city,
    case orders.order_status
{%- for status, mapped in statuses.items() %}
        when {{ status | sql_string }} then {{ mapped | sql_string }}
{%- endfor %}
    end as final_status,
    olist_instant(orders.order_purchase_timestamp) as purchased_at,
    olist_day(orders.order_purchase_timestamp) as purchased_day,
    olist_instant(orders.order_approved_at) as approved_at,
    olist_day(orders.order_approved_at) as approved_day,
    olist_instant(orders.order_delivered_carrier_date) as carrier_at,
    olist_day(orders.order_delivered_carrier_date) as carrier_day,
    olist_instant(orders.order_delivered_customer_date) as delivered_at,
    olist_day(orders.order_delivered_customer_date) as delivered_day,
    -- the estimate is a local midnight: the promise is the end of that local day
    olist_instant(
        olist_day(orders.order_estimated_delivery_date) + interval '23:59:59'
    ) as promised_at,
    coalesce(freight.freight_value, 0.00) as freight_value,
from export_orders as orders
join export_customers as customers using (customer_id)
left join (
    select order_id, sum(freight_value) as freight_value, from olist_items group by order_id
) as freight using (order_id);
