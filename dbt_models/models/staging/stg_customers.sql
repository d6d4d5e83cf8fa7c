with

source as (
    select * from {{ source('raw', 'customers') }}
),

renamed as (
    select
        -- ids
        customer_id,
        visitor_id,
        -- attributes
        email,
        phone,
        city,
        member_tier,
        -- timestamps (UTC) and dates
        registered_at,
        updated_at,
        {{ business_date('registered_at') }} as registered_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['customer_id'], 'updated_at') }}
)

select * from renamed
