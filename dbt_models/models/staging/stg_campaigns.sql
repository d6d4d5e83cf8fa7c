with

source as (
    select * from {{ source('raw', 'campaigns') }}
),

renamed as (
    select
        -- ids
        campaign_id,
        -- attributes
        name,
        channel,
        -- numerics
        budget,
        target_revenue,
        target_orders,
        -- timestamps (UTC) and dates
        start_date,
        end_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['campaign_id']) }}
)

select * from renamed
