with

source as (
    select * from {{ source('raw', 'inventory_snapshots') }}
),

renamed as (
    select
        -- ids
        product_id,
        warehouse_id,
        -- numerics
        on_hand_units,
        unit_cost,
        -- timestamps (UTC) and dates
        snapshot_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['snapshot_date', 'product_id', 'warehouse_id']) }}
)

select * from renamed
