-- Whole-shop traffic and conversion per day, with distinct visitors counted over the whole
-- day, and the registration rate (customers registered that day ÷ new visitors that day).
with

traffic as (
    {{ traffic_kpis([]) }}
),

registrations as (
    select registered_date, count(*) as registrations
    from {{ ref('dim_customers') }}
    group by registered_date
)

select
    traffic.*,
    coalesce(registrations.registrations, 0) as registrations,
    {{ ratio(
        'registration_rate',
        'coalesce(registrations.registrations, 0)',
        'traffic.new_visitor_share_numerator',
    ) }}
from traffic
left join registrations on traffic.kpi_date = registrations.registered_date
