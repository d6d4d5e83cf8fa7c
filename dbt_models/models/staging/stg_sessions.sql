with

source as (
    select * from {{ source('raw', 'sessions') }}
),

renamed as (
    select
        -- ids
        session_id,
        visitor_id,
        customer_id,
        campaign_id,
        -- attributes
        platform,
        device,
        channel,
        landing_page,
        -- timestamps (UTC) and dates
        started_at,
        {{ business_date('started_at') }} as session_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date,
    from source
    {{ latest_version(['session_id']) }}
)

select * from renamed
