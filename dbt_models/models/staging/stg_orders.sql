with

source as (
    select * from {{ source('raw', 'orders') }}
),

renamed as (
    select
        -- ids
        order_id,
        customer_id,
        session_id,
        -- attributes
        status,
        -- an export that does not say which platform: unknown, like an unknown channel
        coalesce(platform, 'unknown') as platform,
        coupon_code,
        -- numerics
        discount_amount,
        shipping_fee,
        tax_amount,
        -- timestamps (UTC) and dates
        ordered_at,
        updated_at,
        {{ business_date('ordered_at') }} as order_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['order_id'], 'updated_at') }}
)

select * from renamed
