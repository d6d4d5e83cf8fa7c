-- customers: the person (customer_unique_id), one version per local day on which they
-- ordered, carrying the city of that day's last order, updated at its purchase time;
-- registered at their first purchase in the export. Olist has no membership programme, no
-- web analytics and no contact data.
select
    cast(purchased_day as varchar) as dt,
    person_id as customer_id,
    null::varchar as visitor_id,
    utc_text(min(purchased_at) over (partition by person_id)) as registered_at,
    null::varchar as email,
    null::varchar as phone,
    city,
    'none' as member_tier,
    utc_text(purchased_at) as updated_at,
from olist_orders
qualify row_number() over (
    partition by person_id, purchased_day order by purchased_at desc, order_id desc
) = 1
order by purchased_day, person_id, purchased_at;
