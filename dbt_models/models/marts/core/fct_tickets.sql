-- One row per support ticket (latest version), with response and resolution times.
with

tickets as (
    select * from {{ ref('stg_support_tickets') }}
)

select
    ticket_id,
    customer_id,
    order_id,
    channel,
    category,
    created_date,
    created_at,
    first_response_at,
    resolved_at,
    reopened as is_reopened,
    resolved_at is not null as is_resolved,
    {{ dbt.datediff('created_at', 'first_response_at', 'second') }}
    / 60.0 as first_response_minutes,
    {{ dbt.datediff('created_at', 'resolved_at', 'second') }}
    / 3600.0 as resolution_hours
from tickets
