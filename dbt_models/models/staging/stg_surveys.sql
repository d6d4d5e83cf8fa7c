with

source as (
    select * from {{ source('raw', 'surveys') }}
),

renamed as (
    select
        -- ids
        survey_id,
        ticket_id,
        customer_id,
        -- numerics
        csat_score,
        nps_score,
        -- timestamps (UTC) and dates
        responded_at,
        {{ business_date('responded_at') }} as responded_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['survey_id']) }}
)

select * from renamed
