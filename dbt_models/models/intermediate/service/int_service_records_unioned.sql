-- Customer-service records (catalogue §8), one row per support ticket and per survey response,
-- each on the business date of its own event (a ticket on created_at, a survey on
-- responded_at), with 0/1 counters that service_kpis() sums.
-- A survey about a ticket takes the ticket's channel and category. A survey without a ticket
-- is a post-delivery survey: channel 'post_delivery', category 'delivered_on_time' or
-- 'delivered_late' after the customer's latest delivered shipment before the response
-- ('no_delivery' when there is none), so CSAT by delivery punctuality reads off the grain.
{%- set follow_up_days = var('detractor_follow_up_days', 7) %}
with

tickets as (
    select * from {{ ref('fct_tickets') }}
),

surveys as (
    select * from {{ ref('fct_surveys') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

shipments as (
    select * from {{ ref('fct_shipments') }}
),

surveyed_tickets as (
    select ticket_id
    from surveys
    where ticket_id is not null
    group by ticket_id
),

-- The customer's latest delivered shipment at the time of a post-delivery survey.
survey_deliveries as (
    select
        surveys.survey_id,
        shipments.is_on_time
    from surveys
    inner join orders on surveys.customer_id = orders.customer_id
    inner join shipments
        on orders.order_id = shipments.order_id
        and shipments.delivered_at <= surveys.responded_at
    where surveys.ticket_id is null and shipments.status = 'delivered'
    qualify
        row_number() over (
            partition by surveys.survey_id
            order by shipments.delivered_at desc, shipments.shipment_id desc
        ) = 1
),

-- Detractors whose customer opened a ticket within the follow-up window after the survey.
followed_up_detractors as (
    select surveys.survey_id
    from surveys
    inner join tickets
        on surveys.customer_id = tickets.customer_id
        and tickets.created_at > surveys.responded_at
        and tickets.created_at <= {{ dbt.dateadd('day', follow_up_days, 'surveys.responded_at') }}
    where surveys.nps_score <= 6
    group by surveys.survey_id
),

ticket_records as (
    select
        'ticket' as record_type,
        tickets.ticket_id as record_id,
        tickets.created_date as kpi_date,
        tickets.channel,
        tickets.category,
        tickets.first_response_minutes,
        tickets.resolution_hours,
        1 as tickets,
        case
            when tickets.first_response_minutes <= {{ var('sla_minutes', 60) }} then 1 else 0
        end as answered_within_sla,
        case when tickets.is_resolved then 1 else 0 end as resolved_tickets,
        case
            when tickets.is_resolved and not coalesce(tickets.is_reopened, false) then 1 else 0
        end as resolved_first_contact,
        case
            when tickets.is_resolved and surveyed_tickets.ticket_id is not null then 1 else 0
        end as resolved_with_survey,
        0 as csat_responses,
        0 as csat_satisfied,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors,
        0 as detractors_followed_up
    from tickets
    left join surveyed_tickets on tickets.ticket_id = surveyed_tickets.ticket_id
),

survey_records as (
    select
        'survey' as record_type,
        surveys.survey_id as record_id,
        surveys.responded_date as kpi_date,
        case
            when surveys.ticket_id is null then 'post_delivery'
            else coalesce(tickets.channel, 'unknown')
        end as channel,
        case
            when surveys.ticket_id is not null then coalesce(tickets.category, 'unknown')
            when survey_deliveries.is_on_time then 'delivered_on_time'
            when not survey_deliveries.is_on_time then 'delivered_late'
            else 'no_delivery'
        end as category,
        cast(null as double) as first_response_minutes,
        cast(null as double) as resolution_hours,
        0 as tickets,
        0 as answered_within_sla,
        0 as resolved_tickets,
        0 as resolved_first_contact,
        0 as resolved_with_survey,
        case when surveys.csat_score is not null then 1 else 0 end as csat_responses,
        case when surveys.csat_score >= 4 then 1 else 0 end as csat_satisfied,
        case when surveys.nps_score is not null then 1 else 0 end as nps_responses,
        case when surveys.nps_score >= 9 then 1 else 0 end as nps_promoters,
        case when surveys.nps_score <= 6 then 1 else 0 end as nps_detractors,
        case
            when followed_up_detractors.survey_id is not null then 1 else 0
        end as detractors_followed_up
    from surveys
    left join tickets on surveys.ticket_id = tickets.ticket_id
    left join survey_deliveries on surveys.survey_id = survey_deliveries.survey_id
    left join followed_up_detractors on surveys.survey_id = followed_up_detractors.survey_id
)

select * from ticket_records
union all
select * from survey_records
