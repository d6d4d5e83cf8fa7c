with

source as (
    select * from {{ source('raw', 'products') }}
),

renamed as (
    select
        -- ids
        product_id,
        supplier_id,
        -- attributes
        sku,
        name,
        category,
        subcategory,
        brand,
        -- numerics
        unit_cost,
        list_price,
        -- timestamps (UTC) and dates
        launched_at,
        discontinued_at,
        updated_at,
        {{ business_date('launched_at') }} as launched_date,
        {{ business_date('discontinued_at') }} as discontinued_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['product_id'], 'updated_at') }}
)

select * from renamed
