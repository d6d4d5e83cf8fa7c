with

source as (
    select * from {{ source('raw', 'suppliers') }}
),

renamed as (
    select
        -- ids
        supplier_id,
        -- attributes
        name,
        country,
        -- timestamps (UTC) and dates
        updated_at,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['supplier_id'], 'updated_at') }}
)

select * from renamed
