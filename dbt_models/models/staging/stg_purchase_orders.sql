with

source as (
    select * from {{ source('raw', 'purchase_orders') }}
),

renamed as (
    select
        -- ids
        po_id,
        supplier_id,
        product_id,
        -- numerics
        qty_ordered,
        qty_received,
        unit_cost,
        -- timestamps (UTC) and dates
        ordered_at,
        expected_at,
        received_at,
        updated_at,
        {{ business_date('ordered_at') }} as ordered_date,
        {{ business_date('expected_at') }} as expected_date,
        {{ business_date('received_at') }} as received_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['po_id'], 'updated_at') }}
)

select * from renamed
