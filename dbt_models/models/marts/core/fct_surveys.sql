-- One row per survey response (CSAT 1-5 and/or NPS 0-10).
with

surveys as (
    select * from {{ ref('stg_surveys') }}
)

select
    survey_id,
    ticket_id,
    customer_id,
    responded_date,
    responded_at,
    csat_score,
    nps_score
from surveys
