with

source as (
    select * from {{ source('raw', 'support_tickets') }}
),

renamed as (
    select
        -- ids
        ticket_id,
        customer_id,
        order_id,
        -- attributes
        channel,
        category,
        reopened,
        -- timestamps (UTC) and dates
        created_at,
        first_response_at,
        resolved_at,
        updated_at,
        {{ business_date('created_at') }} as created_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['ticket_id'], 'updated_at') }}
)

select * from renamed
