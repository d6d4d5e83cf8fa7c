with

source as (
    select * from {{ source('raw', 'events') }}
),

renamed as (
    select
        -- ids
        event_id,
        session_id,
        product_id,
        order_id,
        -- attributes
        event_type,
        -- timestamps (UTC) and dates
        event_at,
        {{ business_date('event_at') }} as event_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date,
    from source
    {{ latest_version(['event_id']) }}
)

select * from renamed
