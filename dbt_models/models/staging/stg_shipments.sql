with

source as (
    select * from {{ source('raw', 'shipments') }}
),

renamed as (
    select
        -- ids
        shipment_id,
        order_id,
        -- attributes
        -- an export that does not name the carrier: unknown
        coalesce(carrier, 'unknown') as carrier,
        status,
        -- numerics
        shipping_cost,
        -- timestamps (UTC) and dates
        shipped_at,
        promised_at,
        delivered_at,
        updated_at,
        {{ business_date('shipped_at') }} as shipped_date,
        {{ business_date('promised_at') }} as promised_date,
        {{ business_date('delivered_at') }} as delivered_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['shipment_id'], 'updated_at') }}
)

select * from renamed
