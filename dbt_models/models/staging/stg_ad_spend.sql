with

source as (
    select * from {{ source('raw', 'ad_spend') }}
),

renamed as (
    select
        -- ids
        campaign_id,
        -- numerics
        impressions,
        clicks,
        spend,
        -- timestamps (UTC) and dates
        spend_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['spend_date', 'campaign_id']) }}
)

select * from renamed
