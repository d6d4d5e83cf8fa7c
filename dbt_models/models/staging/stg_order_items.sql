with

source as (
    select * from {{ source('raw', 'order_items') }}
),

renamed as (
    select
        -- ids
        order_id,
        line_number,
        product_id,
        -- numerics
        quantity,
        unit_price,
        discount_amount,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['order_id', 'line_number']) }}
)

select * from renamed
