-- Customers as they are now, with their first valid order. Personal data (email, phone) is
-- not carried into the marts.
with

customers as (
    select * from {{ ref('stg_customers') }}
),

cohorts as (
    select * from {{ ref('int_customer_cohorts') }}
)

select
    customers.customer_id,
    customers.visitor_id,
    customers.city,
    customers.member_tier,
    customers.member_tier <> 'none' as is_member,
    customers.registered_date,
    customers.registered_at,
    cohorts.first_order_date,
    cohorts.cohort_month,
    cohorts.member_tier_at_first_order
from customers
left join cohorts on customers.customer_id = cohorts.customer_id
