with

source as (
    select * from {{ source('raw', 'refunds') }}
),

renamed as (
    select
        -- ids
        refund_id,
        order_id,
        product_id,
        -- attributes
        reason,
        -- numerics
        amount,
        -- timestamps (UTC) and dates
        refunded_at,
        {{ business_date('refunded_at') }} as refund_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['refund_id']) }}
)

select * from renamed
